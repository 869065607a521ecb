import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { HALO_CLI, type RunningCluster } from '../support/cluster.js';
import { cli } from '../support/run-cli.js';
import { writePrivate } from '../support/temp-dir.js';
import { groupsCluster } from './groups-support.js';

/**
 * Acceptance (issue #5, config push): `halo config push FILE` checks the file, stores it on
 * every node (each agent has its own config file here, as on real machines), and nothing
 * changes until an agent restarts. While the two nodes run different versions they do not
 * count each other's votes; after both restarted they agree again and the group runs.
 */

const NODES = ['n1', 'n2'] as const;

interface Agents {
  start(node: string): Promise<void>;
  /** SIGTERM, as `systemctl restart` sends, and wait for the exit. */
  stop(node: string): Promise<void>;
  file(node: string): string;
}

/** Agents of the harness's cluster, but each reading its own copy of the config file. */
function ownFileAgents(c: RunningCluster, children: Map<string, ChildProcess>): Agents {
  const text = readFileSync(c.configFile, 'utf8');
  const file = (node: string) => join(c.dir, `node-${node}`, 'halo.yaml');
  for (const node of NODES) {
    mkdirSync(join(c.dir, `node-${node}`));
    writeFileSync(file(node), text, { mode: 0o640 });
    // secretFile is relative ("cluster.key"): each node has the key next to its config.
    writePrivate(
      join(c.dir, `node-${node}`, 'cluster.key'),
      readFileSync(join(c.dir, 'cluster.key'), 'utf8'),
    );
  }
  const logs = new Map<string, string>();
  return {
    file,
    async start(node) {
      logs.set(node, '');
      const child = spawn(
        process.execPath,
        [HALO_CLI, 'agent', '-c', file(node), '--node', node, '--state-dir', join(c.dir, `state-${node}`)],
        { cwd: c.dir, env: { ...process.env, HALO_LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.set(node, child);
      const append = (b: Buffer) => logs.set(node, (logs.get(node) ?? '') + b.toString());
      child.stdout!.on('data', append);
      child.stderr!.on('data', append);
      await c.waitFor(`agent ${node} started`, () => {
        const out = logs.get(node) ?? '';
        if (child.exitCode !== null) throw new Error(`agent ${node} exited:\n${out}`);
        return out.includes('"agent started"');
      });
    },
    async stop(node) {
      const child = children.get(node);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const marker = {
  type: 'script',
  start: 'touch "marker.$HALO_NODE"',
  stop: 'rm -f "marker.$HALO_NODE"',
  check: 'test -f "marker.$HALO_NODE" || exit 7',
};

/**
 * The same config with a change the agents coordinate on (autoFailback is part of the epoch), so
 * it needs the rolling restart; a monitor's interval alone would be applied without one
 * (config-reload.test.ts).
 */
function changed(text: string): string {
  const doc = parse(text);
  doc.groups.web.monitors.alive.interval = '2s';
  doc.groups.web.autoFailback = true;
  return stringify(doc);
}

test('config push stores a new version everywhere, each agent applies it on restart, and nodes of different versions do not vote together', async (t) => {
  const children = new Map<string, ChildProcess>();
  t.after(() => {
    for (const child of children.values()) if (child.exitCode === null) child.kill('SIGKILL');
  });
  const c = await groupsCluster(t, {
    nodes: [...NODES],
    groups: {
      web: {
        nodes: ['n1', 'n2'],
        resources: { marker },
        monitors: { alive: { type: 'resource', target: 'marker', interval: '1s' } },
      },
    },
  });
  // One token for both agents, as cluster.api.tokenFile gives: push talks to every node.
  const token = randomBytes(24).toString('hex');
  for (const n of NODES) {
    mkdirSync(join(c.dir, `state-${n}`), { recursive: true });
    writePrivate(join(c.dir, `state-${n}`, 'api.token'), `${token}\n`);
  }
  const env = { HALO_TOKEN: token };
  const agents = ownFileAgents(c, children);
  const oldText = readFileSync(agents.file('n1'), 'utf8');
  const newText = changed(oldText);
  const newFile = join(c.dir, 'halo.new.yaml');
  writeFileSync(newFile, newText);
  const unchanged = () => {
    for (const n of NODES) {
      assert.equal(readFileSync(agents.file(n), 'utf8'), oldText, `${n}'s config file is unchanged`);
      assert.ok(!existsSync(`${agents.file(n)}.prev`), `${n} has no .prev`);
    }
  };
  const config = async (n: string) => (await c.status(n)).config;

  await agents.start('n1');
  const oldEpoch = (await c.status('n1')).epoch as string;

  await t.test('a push of an invalid file exits 2, lists every problem and changes nothing', async () => {
    const bad = join(c.dir, 'bad.yaml');
    const doc = parse(newText);
    doc.groups.web.monitors.alive.interval = 'soon';
    doc.cluster.colour = 'blue';
    writeFileSync(bad, stringify(doc));
    const r = await cli(['config', 'push', bad], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /HALO_E_CONFIG_INVALID/);
    assert.match(r.stderr, /groups\.web\.monitors\.alive\.interval/);
    assert.match(r.stderr, /unknown key "colour"/);
    unchanged();
  });

  await t.test('a push while a node is unreachable exits 1, names the node and writes nothing', async () => {
    const r = await cli(['config', 'push', newFile], env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /n2: unreachable/);
    assert.match(r.stdout, /Nothing was written \(unreachable: n2\)/);
    unchanged();
    assert.equal((await config('n1')).pending, false);
  });

  await agents.start('n2');
  await c.waitFor('web running on n1, n2 up', async () => {
    const s = await c.status('n1');
    return s.nodes[1].up && s.groups[0].owner === 'n1' && s.groups[0].state === 'running';
  });

  await t.test('every node refuses a config for another cluster, and nothing is written', async () => {
    const other = join(c.dir, 'other.yaml');
    const doc = parse(newText);
    doc.cluster.name = 'other';
    writeFileSync(other, stringify(doc));
    const r = await cli(['config', 'push', other], env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /n1: failed: HALO_E_CONFLICT: this agent runs cluster "it"/);
    assert.match(r.stdout, /n2: failed: HALO_E_CONFLICT/);
    unchanged();
  });

  await t.test(
    'every node refuses a config whose cluster key is too short for an agent to start',
    async () => {
      for (const n of NODES) writePrivate(join(c.dir, `node-${n}`, 'short.key'), 'short\n');
      const shortKey = join(c.dir, 'short-key.yaml');
      const doc = parse(newText);
      doc.cluster.secretFile = 'short.key';
      writeFileSync(shortKey, stringify(doc));
      const r = await cli(['config', 'push', shortKey], env);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      for (const n of NODES) assert.match(r.stdout, new RegExp(`${n}: failed: HALO_E_CONFIG_INVALID`));
      assert.match(
        r.stdout,
        /cluster\.secretFile: cluster key file .*short\.key is too short: use at least 16 characters/,
      );
      unchanged();
    },
  );

  let newEpoch = '';
  await t.test(
    "a valid push replaces every node's file, keeps the old one as .prev, and is pending until restart",
    async () => {
      const r = await cli(['config', 'push', newFile], env);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      newEpoch = /epoch ([0-9a-f]+)/.exec(r.stdout)![1]!;
      assert.notEqual(newEpoch, oldEpoch);
      assert.match(r.stdout, new RegExp(`n1: stored \\(running ${oldEpoch}\\)`));
      assert.match(r.stdout, new RegExp(`n2: stored \\(running ${oldEpoch}\\)`));
      assert.match(r.stdout, /the nodes that own no group: n2/);
      assert.match(r.stdout, /then the owners: n1 \(web\)/);
      assert.match(r.stdout, /last the witness/);
      for (const n of NODES) {
        assert.equal(readFileSync(agents.file(n), 'utf8'), newText, `${n}'s file is the new version`);
        assert.equal(readFileSync(`${agents.file(n)}.prev`, 'utf8'), oldText, `${n} keeps the old one`);
        const s = await c.status(n);
        assert.equal(s.epoch, oldEpoch, `${n} still runs the old version`);
        assert.deepEqual(
          { ...s.config, file: undefined },
          {
            file: undefined,
            runningEpoch: oldEpoch,
            storedEpoch: newEpoch,
            pending: true,
            reloadable: false,
          },
        );
      }
      assert.equal((await c.status('n1')).groups[0].owner, 'n1', 'the push itself moves nothing');
      assert.ok(
        c.events('n1').some((e) => e.type === 'agent' && e.message.includes(`config ${newEpoch} stored`)),
        'an event records the stored version',
      );

      const again = await cli(['config', 'push', newFile], env);
      assert.equal(again.code, 0, again.stdout);
      assert.match(again.stdout, /n1: already stored/);
      assert.equal(readFileSync(`${agents.file('n1')}.prev`, 'utf8'), oldText, 'a repeated push keeps .prev');
    },
  );

  await t.test('while the standby runs the new version, the two nodes do not count each other', async () => {
    await agents.stop('n2');
    await agents.start('n2');
    const s2 = await c.status('n2');
    assert.equal(s2.epoch, newEpoch);
    assert.deepEqual(
      { ...s2.config, file: undefined },
      {
        file: undefined,
        runningEpoch: newEpoch,
        storedEpoch: newEpoch,
        pending: false,
        reloadable: false,
      },
    );
    // n1 (old version) and the witness (old version) keep the quorum and the group.
    await c.waitFor('n1 drops n2 as wrong-epoch and sees it down', async () => {
      const s = await c.status('n1');
      return (s.droppedMessages['wrong-epoch'] ?? 0) > 0 && !s.nodes[1].up && s.quorum;
    });
    await c.waitFor('n2 drops the old version and has no quorum', async () => {
      const s = await c.status('n2');
      return (s.droppedMessages['wrong-epoch'] ?? 0) > 0 && !s.nodes[0].up && !s.quorum;
    });
    const s1 = await c.status('n1');
    assert.equal(s1.groups[0].owner, 'n1');
    assert.equal(s1.groups[0].state, 'running');
    assert.equal(s1.config.pending, true);
  });

  await t.test('after the owner restarts too, both agree again and the group runs', async () => {
    await agents.stop('n1');
    await agents.start('n1');
    const owner = await c.waitFor(
      'both on the new version with quorum, web running',
      async () => {
        const [s1, s2] = [await c.status('n1'), await c.status('n2')];
        if (!s1.quorum || !s2.quorum || !s1.nodes[1].up || !s2.nodes[0].up) return false;
        const running = [s1, s2].find((s) => s.groups[0].state === 'running');
        return running ? (running.node as string) : false;
      },
      30_000,
    );
    for (const n of NODES) {
      const s = await c.status(n);
      assert.equal(s.epoch, newEpoch);
      assert.equal(s.config.pending, false);
      assert.equal(s.groups[0].owner, owner, `${n} agrees on the owner`);
    }
    assert.ok(existsSync(join(c.dir, `marker.${owner}`)));

    // The last step of the procedure: the witness with the same file.
    writeFileSync(c.configFile, newText);
    await c.kill('witness', 'SIGTERM');
    await c.startWitness();
    await c.waitFor('both see the witness again', async () =>
      (await Promise.all(NODES.map((n) => c.status(n)))).every((s) => s.witness?.up),
    );
  });

  await t.test('with --force a push stores on the reachable nodes and names the one left out', async () => {
    await agents.stop('n2');
    const third = join(c.dir, 'halo.third.yaml');
    const doc = parse(newText);
    doc.groups.web.monitors.alive.interval = '3s';
    doc.groups.web.autoFailback = false;
    writeFileSync(third, stringify(doc));
    const r = await cli(['config', 'push', third, '--force'], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /n1: stored/);
    assert.match(r.stdout, /n2: unreachable/);
    assert.match(r.stdout, /n2 did not get it: copy .*halo\.third\.yaml there by hand/);
    assert.equal(readFileSync(agents.file('n1'), 'utf8'), readFileSync(third, 'utf8'));
    assert.equal(readFileSync(`${agents.file('n1')}.prev`, 'utf8'), newText);
    assert.equal(readFileSync(agents.file('n2'), 'utf8'), newText, 'n2 keeps what it had');
  });
});
