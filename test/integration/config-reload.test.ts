import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { cli } from '../support/run-cli.js';
import { writePrivate } from '../support/temp-dir.js';
import { groupsCluster, twoAgents } from './groups-support.js';

/**
 * Issue #16 acceptance 2: `halo config push` of a change that keeps the epoch applies it to the
 * running cluster. The group the change does not touch is not stopped and its monitor keeps its
 * counters; a live parameter applies without a stop; a parameter read at start restarts just
 * its resource. A change of what the agents coordinate on is refused by `halo config apply`.
 */

const NODES = ['n1', 'n2'];

const groups = {
  a: {
    nodes: NODES,
    resources: {
      r: {
        type: 'script',
        env: { PORT: '1' },
        start: 'echo "$PORT" > "a.$HALO_NODE"',
        stop: 'rm -f "a.$HALO_NODE"',
        check: 'test -f "a.$HALO_NODE" || exit 7',
      },
    },
    monitors: { wa: { type: 'resource', target: 'r', interval: '300ms' } },
  },
  b: {
    nodes: NODES,
    resources: {
      s: {
        type: 'script',
        start: 'touch "b.$HALO_NODE"',
        stop: 'rm -f "b.$HALO_NODE"',
        check: 'test -f "b.$HALO_NODE" || exit 7',
      },
    },
    monitors: {
      // Fails once (then passes): its restart counter is 1 before the reload, and must stay 1.
      wb: {
        type: 'script',
        target: 's',
        command: 'test -f b.flag || { touch b.flag; exit 1; }',
        interval: '300ms',
        retries: 0,
        onFailure: { restart: 2, then: 'failover', restartWindow: '1h' },
      },
    },
  },
};

test('config push applies a change that keeps the epoch: the untouched group keeps running with its monitor counters, a live parameter applies without a stop', async (t) => {
  const c = await groupsCluster(t, { nodes: NODES, groups, timing: 'fast' });
  // One token for both agents, as cluster.api.tokenFile gives: push talks to every node.
  const token = randomBytes(24).toString('hex');
  for (const n of NODES) {
    mkdirSync(join(c.dir, `state-${n}`), { recursive: true });
    writePrivate(join(c.dir, `state-${n}`, 'api.token'), `${token}\n`);
  }
  const env = { HALO_TOKEN: token };
  await twoAgents(c, () => existsSync(join(c.dir, 'a.n1')) && existsSync(join(c.dir, 'b.n1')));
  const monitor = async (name: string) =>
    (await c.status('n1')).groups
      .flatMap((g: { monitors: Array<{ name: string }> }) => g.monitors)
      .find((m: { key: string }) => m.key === name);
  await c.waitFor('wb restarted s once and passes', async () => {
    const m = await monitor('b/wb');
    return m?.restarts === 1 && m.state === 'passing';
  });
  const mark = c.events('n1').length;
  const since = (node: string) => c.events(node).slice(node === 'n1' ? mark : 0);

  // A restart parameter of a (env) and a live one (check); b untouched.
  const doc = parse(readFileSync(c.configFile, 'utf8'));
  doc.groups.a.resources.r.env.PORT = '2';
  doc.groups.a.resources.r.check = 'test -f "a.$HALO_NODE" || exit 8';
  const next = join(c.dir, 'halo.next.yaml');
  writeFileSync(next, stringify(doc));
  const pushed = await cli(['config', 'push', next, '-c', c.configFile], env);
  assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
  assert.match(pushed.stdout, /The change keeps epoch [0-9a-f]+: applied without a restart/);
  assert.match(pushed.stdout, /n1: applied\n {4}a\/r: applied check; restarting for env/);
  assert.match(pushed.stdout, /n2: applied\n {4}a\/r: applied check, env/, 'n2 does not run it');
  await c.waitFor('r restarted with PORT 2', () => readFileSync(join(c.dir, 'a.n1'), 'utf8').trim() === '2');

  const events = since('n1');
  const stops = events.filter((e) => e.type === 'resource' && / stopped$/.test(e.message));
  assert.deepEqual(
    stops.map((e) => `${e.group}/${e.resource}`),
    ['a/r'],
    'only r was stopped (for its restart)',
  );
  assert.ok(events.some((e) => e.type === 'recovery' && /restarting r: the config changed/.test(e.message)));
  assert.ok(
    events.some(
      (e) => e.type === 'params' && /config reload: live check; pending until restart env/.test(e.message),
    ),
  );
  assert.ok(events.some((e) => e.type === 'agent' && /config reloaded from/.test(e.message)));
  const wb = await monitor('b/wb');
  assert.equal(wb.restarts, 1, "b's monitor keeps its counter");
  assert.equal((await c.status('n1')).groups.find((g: { name: string }) => g.name === 'b').owner, 'n1');
  for (const n of NODES) assert.equal((await c.status(n)).config.pending, false, `${n} runs the file`);

  // A live parameter only: applied without any stop.
  const mark2 = c.events('n1').length;
  doc.groups.a.resources.r.check = 'test -f "a.$HALO_NODE" || exit 9';
  writeFileSync(next, stringify(doc));
  const live = await cli(['config', 'push', next, '-c', c.configFile], env);
  assert.equal(live.code, 0, live.stdout + live.stderr);
  assert.match(live.stdout, /a\/r: applied check\n/);
  const after = c.events('n1').slice(mark2);
  assert.ok(!after.some((e) => e.type === 'resource' && / stopped$/.test(e.message)), 'nothing stopped');
  assert.ok(
    after.some(
      (e) => e.type === 'params' && /config reload: live check; pending until restart -/.test(e.message),
    ),
  );

  // What the agents coordinate on cannot change while they run: apply refuses, changes nothing.
  doc.groups.a.autoFailback = true;
  writeFileSync(c.configFile, stringify(doc));
  const refused = await cli(['config', 'apply', '-c', c.configFile], env);
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(
    refused.stdout,
    /n1: failed: HALO_E_CONFLICT: .* changes groups\.a\.autoFailback: that needs a rolling restart/,
  );
  const s = await c.status('n1');
  assert.equal(s.config.pending, true);
  assert.equal(s.config.reloadable, false);
});
