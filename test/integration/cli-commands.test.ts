import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { HALO_CLI, startCluster } from '../support/cluster.js';
import { openApiValidator, settleOnN1 } from './api-helpers.js';

/**
 * The operator's CLI end to end: the built `halo` binary against two real agents and a
 * witness (one cluster for the file; subtests run in order). Exit codes: 0 ok, 1 operational
 * failure (agent unreachable, conflict), 2 bad usage or bad input.
 */

test('the halo CLI against a running cluster', async (t) => {
  const c = await startCluster(t, {
    nodes: ['n1', 'n2'],
    groups: {
      web: {
        nodes: ['n1', 'n2'],
        resources: {
          marker: {
            type: 'script',
            start: 'echo "$HALO_TERM" > "marker.$HALO_NODE"',
            stop: 'rm -f "marker.$HALO_NODE"',
            check: 'test -f "marker.$HALO_NODE" || exit 7',
          },
        },
        monitors: { alive: { type: 'script', target: 'marker', command: 'true', interval: '300ms' } },
      },
    },
  });
  await c.startAgent('n1');
  await c.startAgent('n2');
  await settleOnN1(c);
  const api = (node: string) => `http://127.0.0.1:${c.ports[node]!.api}`;
  const { validate } = await openApiValidator(api('n1'));
  const halo = async (args: string[], node = 'n1') => {
    const r = await c.cli(node, args);
    return r;
  };
  const ok = async (args: string[], node = 'n1') => {
    const r = await halo(args, node);
    assert.equal(r.code, 0, `halo ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const groupOf = (s: any) => s.groups.find((g: any) => g.name === 'web');

  await t.test('halo status prints nodes, groups, resources and monitors as tables', async () => {
    const out = await ok(['status']);
    assert.match(out, /cluster it — seen from n1 — quorum: yes/);
    assert.match(out, /^NODE\s+STATE\s+ELIGIBLE/m);
    assert.match(out, /^n1 \(this node\)\s+up\s+yes/m);
    assert.match(out, /^n2\s+up\s+yes/m);
    assert.match(out, /^witness\s+up/m);
    assert.match(out, /^web\s+n1\s+running/m);
    assert.match(out, /^\s+marker\s+script\s+running/m);
    assert.match(out, /^\s+web\/alive\s+(passing|pending)/m);
  });

  await t.test(
    'halo status on the standby shows the cluster-wide state and each node’s own phase',
    async () => {
      const out = await ok(['status'], 'n2');
      assert.match(out, /^GROUP\s+OWNER\s+STATE\s+n1\s+n2\s+SINCE\s+NOTE$/m);
      assert.match(out, /^web\s+n1\s+running\s+running\s+stopped\s/m);
      const s = JSON.parse(await ok(['status', '--json'], 'n2'));
      validate('/v1/status', 'get', 200, s);
      assert.deepEqual(
        groupOf(s).onNodes.map((n: any) => [n.node, n.state]),
        [
          ['n1', 'running'],
          ['n2', 'stopped'],
        ],
      );
    },
  );

  await t.test('halo status --json prints the status document', async () => {
    const s = JSON.parse(await ok(['status', '--json']));
    validate('/v1/status', 'get', 200, s);
    assert.equal(groupOf(s).owner, 'n1');
  });

  await t.test(
    'halo resource set says which changes are live and which pending; get shows them',
    async () => {
      const out = await ok([
        'resource',
        'set',
        'web/marker',
        'check=test -f "marker.$HALO_NODE" || exit 7',
        'env={COLOR: blue}',
      ]);
      assert.match(out, /applied now: check/);
      assert.match(out, /^accepted by the cluster/m);
      assert.match(out, /pending until the resource restarts \(on any node\): env/);
      const json = JSON.parse(await ok(['resource', 'set', 'web/marker', 'timeout={check: 10s}', '--json']));
      assert.deepEqual(json, { live: ['timeout'], pending: [] });
      const got = await ok(['resource', 'get', 'web/marker']);
      assert.match(got, /^env = .*pending until the resource next starts: \{"COLOR":"blue"\}/m);
      assert.match(got, /^start = /m);
      const view = JSON.parse(await ok(['resource', 'get', 'web/marker', '--json']));
      assert.deepEqual(view.pending, { env: { COLOR: 'blue' } });
      assert.match(await ok(['status']), /pending until restart: env/);
    },
  );

  await t.test('halo resource set takes a number in an argument list as an argument', async () => {
    // YAML on the command line: 1000 is a number there; the API turns it into the argument "1000".
    const out = await ok([
      'resource',
      'set',
      'web/marker',
      `stop=[/bin/sh, -c, 'rm -f "marker.$HALO_NODE"', 1000]`,
    ]);
    assert.match(out, /stop/);
    const view = JSON.parse(await ok(['resource', 'get', 'web/marker', '--json']));
    assert.deepEqual(view.pending.stop ?? view.params.stop, [
      '/bin/sh',
      '-c',
      'rm -f "marker.$HALO_NODE"',
      '1000',
    ]);
  });

  await t.test('halo monitor suspend and resume', async () => {
    assert.match(await ok(['monitor', 'suspend', 'web/alive']), /suspended web\/alive/);
    await c.waitFor('suspended', async () => groupOf(await c.status('n2')).monitors[0].state === 'suspended');
    assert.match(await ok(['status']), /web\/alive\s+suspended/);
    assert.match(await ok(['monitor', 'resume', 'alive']), /resumed alive/);
    await c.waitFor('resumed', async () => !groupOf(await c.status('n1')).monitors[0].suspended);
  });

  await t.test('halo events prints recent events; --follow shows new ones until killed', async () => {
    const recent = await ok(['events', '--limit', '5']);
    assert.ok(recent.trim().split('\n').length >= 1);
    assert.match(recent, /^\d{4}-\d\d-\d\dT\S+ n1 \w+/m);
    const follow = spawn(
      process.execPath,
      [HALO_CLI, 'events', '--follow', '--limit', '1', '--api', api('n1')],
      {
        env: { ...process.env, HALO_TOKEN: c.token('n1') },
      },
    );
    t.after(() => {
      if (follow.exitCode === null) follow.kill('SIGKILL');
    });
    let out = '';
    follow.stdout.on('data', (b) => (out += b));
    const exited = new Promise<number | null>((r) => follow.on('close', (code) => r(code)));
    await c.waitFor('the history line', () => out.length > 0);
    await ok(['monitor', 'suspend', 'web/alive']);
    await c.waitFor('the new event', () => / intent web\/alive: monitor web\/alive suspended/.test(out));
    await ok(['monitor', 'resume', 'web/alive']);
    await c.waitFor('the next event', () => /monitor web\/alive resumed/.test(out));
    follow.kill('SIGTERM');
    assert.equal(await exited, 0, 'Ctrl-C / SIGTERM ends --follow cleanly');
  });

  await t.test(
    'halo move hands the group to n2 and status --json shows each phase with its duration',
    async () => {
      assert.match(await ok(['move', 'web', 'n2']), /moving web to n2/);
      await c.waitFor('web on n2', () => existsSync(join(c.dir, 'marker.n2')));
      const f = await c.waitFor('the merged timeline', async () => {
        const s = JSON.parse(await ok(['status', '--json']));
        const lf = groupOf(s).lastFailover;
        return lf?.complete && lf.to === 'n2' ? lf : false;
      });
      assert.equal(f.from, 'n1');
      assert.deepEqual(
        f.steps.map((s: any) => `${s.phase}@${s.node}`),
        ['decided@n1', 'stopped@n1', 'lease-granted@n2', 'started@n2', 'healthy@n2'],
      );
      for (const s of f.steps) assert.equal(typeof s.durationMs, 'number');
      const table = await ok(['status']);
      assert.match(table, /last failover n1 → n2: \d+ ms/);
    },
  );

  await t.test('halo stop and halo start --on', async () => {
    assert.match(await ok(['stop', 'web']), /stopping web/);
    await c.waitFor('web stopped', async () => groupOf(await c.status('n2')).state === 'stopped');
    assert.ok(!existsSync(join(c.dir, 'marker.n2')));
    assert.match(await ok(['status']), /^web\s+-\s+stopped \(admin\)/m);
    const started = JSON.parse(await ok(['start', 'web', '--on', 'n1', '--json']));
    assert.equal(started.ok, true);
    await c.waitFor('web on n1', () => existsSync(join(c.dir, 'marker.n1')));
  });

  await t.test('exit code 2 for bad usage and bad input', async () => {
    for (const args of [
      ['move'],
      ['move', 'web', 'n2', 'extra'],
      ['status', '--no-such-flag'],
      ['resource', 'set', 'web/marker', 'novalue'],
      ['resource', 'get', 'not-a-path'],
      ['nonsense-command'],
    ]) {
      const r = await halo(args);
      assert.equal(r.code, 2, `halo ${args.join(' ')} → ${r.code}: ${r.stderr}`);
      assert.ok(r.stderr.length > 0);
    }
    const unknown = await halo(['move', 'nosuch']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /HALO_E_NOT_FOUND/);
    const badParam = await halo(['resource', 'set', 'web/marker', 'nosuchKey=1']);
    assert.equal(badParam.code, 2);
    assert.match(badParam.stderr, /HALO_E_BAD_REQUEST/);
  });

  await t.test('exit code 1 for operational failures: conflicts and an unreachable agent', async () => {
    const conflict = await halo(['move', 'web', 'n1']);
    assert.equal(conflict.code, 1, conflict.stderr);
    assert.match(conflict.stderr, /HALO_E_CONFLICT/);
    const down = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [HALO_CLI, 'status', '--api', 'http://127.0.0.1:1'], {
        env: { ...process.env, HALO_TOKEN: 'x'.repeat(32) },
      });
      let stderr = '';
      child.stderr.on('data', (b) => (stderr += b));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /HALO_E_AGENT_UNREACHABLE/);
  });

  await t.test(
    'halo status marks a node that is down as unknown, and still shows the owner’s state',
    async () => {
      await c.kill('n2');
      const out = await ok(['status']);
      assert.match(out, /^web\s+n1\s+running\s+running\s+\?\s/m);
    },
  );
});
