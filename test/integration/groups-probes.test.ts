import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningCluster } from '../support/cluster.js';
import { activeNodes, type CopySample, sampleCopies } from '../support/copy-sampler.js';
import { alive, groupsCluster, twoAgents } from './groups-support.js';

/**
 * Probes on real agents over loopback: a copy of the group's `process` resource that Halo did
 * not start (the test starts it, with the environment an agent gives its programs for that
 * node, as a crashed agent's leftover or a boot script would have it) is found by the node's
 * probe, stopped, and recorded as an event with the check's output. Every node's processes
 * are sampled every 12 ms; once the stray copy is stopped, no sample may show the program on
 * two nodes.
 *
 * Each cluster has a name of its own: a `process` resource recognises its copies by cluster,
 * node, group and resource name in their environment, and other tests on this machine run
 * clusters named `it` with the same node and group names. The 2 s lease keeps a loaded
 * machine from moving the group on its own while the test watches.
 */

interface Setup {
  c: RunningCluster;
  id: string;
  cluster: string;
  argv: string[];
}

async function probeCluster(t: TestContext): Promise<Setup> {
  const suffix = randomUUID().slice(0, 8);
  const id = `halo-probe-${suffix}`;
  const cluster = `probes-${suffix}`;
  const argv = [process.execPath, '-e', 'setInterval(() => {}, 1000)', id];
  const c = await groupsCluster(t, {
    name: cluster,
    timing: { lease: '2s' },
    nodes: ['n1', 'n2'],
    groups: {
      app: {
        nodes: ['n1', 'n2'],
        probeInterval: '500ms',
        resources: { srv: { type: 'process', command: argv, startGrace: '300ms' } },
      },
    },
  });
  return { c, id, cluster, argv };
}

/** Starts `argv` as the copy an agent of `node` would have started, outside Halo. */
function strayCopy(t: TestContext, s: Setup, node: string): number {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('HALO_')) env[key] = value;
  Object.assign(env, { HALO_CLUSTER: s.cluster, HALO_NODE: node, HALO_GROUP: 'app', HALO_RESOURCE: 'srv' });
  const [file, ...args] = s.argv;
  const child = spawn(file!, args, { cwd: s.c.dir, env, detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid!;
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  });
  return pid;
}

/** The probe's events on `node` for a stray copy of srv: what it found, and the stop. */
async function probeEvents(c: RunningCluster, node: string, pid: number) {
  const found = await c.waitFor(`${node} records the copy pid ${pid} it found`, () =>
    c
      .events(node)
      .find(
        (e) =>
          e.type === 'resource' &&
          e.resource === 'srv' &&
          e.details?.probe &&
          e.output?.includes(`pid ${pid} `),
      ),
  );
  const stopped = await c.waitFor(`${node} records the stop of the copy`, () =>
    c
      .events(node)
      .find((e) => e.seq > found.seq && e.details?.probe && /stopped the copy of app/.test(e.message)),
  );
  return { found, stopped };
}

/** n1 runs srv under Halo (its own copy, not one of `strays`). */
async function n1Runs(c: RunningCluster, id: string, strays: number[]): Promise<number | false> {
  const s = await c.status('n1');
  const g = s.groups[0];
  if (g.state !== 'running') return false;
  const sample = sampleCopies(id).stop()[0]!;
  const pids = sample.byNode['n1'] ?? [];
  return pids.length === 1 && !strays.includes(pids[0]!) ? pids[0]! : false;
}

/**
 * Samples taken after `sinceMs` (wall clock) show the program on one node at most, and the
 * last one shows exactly one copy, on the node that owns the group then.
 */
async function assertOneCopyAfter(c: RunningCluster, samples: readonly CopySample[], sinceMs: number) {
  const after = samples.filter((x) => x.at > sinceMs);
  assert.ok(after.length >= 20, `the sampler kept sampling after the stop (${after.length} samples)`);
  for (const sample of after) {
    const nodes = activeNodes(sample);
    assert.ok(
      nodes.length <= 1,
      `at ${new Date(sample.at).toISOString()} the program ran on ${nodes.join(' and ')}`,
    );
  }
  const owner = (await c.status('n1')).groups[0].owner;
  const last = samples[samples.length - 1]!;
  assert.deepEqual(activeNodes(last), [owner], 'at the end the owner runs the program');
  assert.equal(last.byNode[owner]?.length, 1, 'exactly one copy');
  return last.byNode[owner]![0]!;
}

/** `pid` (n1's copy) still runs, or n1's own agent stopped it for a reason of its own. */
function assertLeftAlone(c: RunningCluster, pid: number, sinceSeq: number): void {
  if (alive(pid)) return;
  assert.ok(
    c.events('n1').some((e) => e.seq > sinceSeq && /^stopping app: /.test(e.message)),
    `n1's copy pid ${pid} is gone, and n1 did not stop it`,
  );
}

test('a copy already running on the standby before the cluster starts is found by its startup probe and stopped; then only the owner runs it', async (t) => {
  const s = await probeCluster(t);
  const { c, id } = s;
  const stray = strayCopy(t, s, 'n2');
  const sampler = sampleCopies(id);
  t.after(() => sampler.stop());
  await c.waitFor('the sampler sees the stray copy on n2', () =>
    sampler.samples.some((x) => x.byNode['n2']?.includes(stray)),
  );
  await twoAgents(c, async () => (await n1Runs(c, id, [stray])) !== false);
  const { found, stopped } = await probeEvents(c, 'n2', stray);
  assert.equal(found.level, 'warn');
  assert.match(found.message, /srv is running on n2 where app is not active: not started by this agent/);
  assert.ok(found.output.includes(id), 'the event carries the copy command line');
  await c.waitFor('the stray copy is gone', () => !alive(stray));
  // A few periodic probes of n2 more, with the group running on n1.
  await sleep(1500);
  const samples = sampler.stop();
  await assertOneCopyAfter(c, samples, Date.parse(stopped.ts));
  assert.ok(
    samples.some((x) => activeNodes(x).join() === 'n1,n2'),
    'positive control: the sampler saw both copies before the stop',
  );
  const n2 = await c.waitFor('n2 shows n1 as owner', async () => {
    const g = (await c.status('n2')).groups[0];
    return g.owner === 'n1' ? g : false;
  });
  assert.equal(n2.state, 'stopped');
});

test('a copy started on the standby while the owner runs the group is stopped by the periodic probe as multiple active', async (t) => {
  const s = await probeCluster(t);
  const { c, id } = s;
  await twoAgents(c, async () => (await n1Runs(c, id, [])) !== false);
  const own = await c.waitFor('n1 runs srv', () => n1Runs(c, id, []));
  await c.waitFor('n2 sees n1 own app', async () => (await c.status('n2')).groups[0].owner === 'n1');
  const sampler = sampleCopies(id);
  t.after(() => sampler.stop());
  const mark = Math.max(0, ...c.events('n1').map((e) => e.seq));
  const stray = strayCopy(t, s, 'n2');
  const { found, stopped } = await probeEvents(c, 'n2', stray);
  const alert = c
    .events('n2')
    .find((e) => e.type === 'group' && e.details?.probe && e.details?.multipleActive && e.seq < found.seq);
  assert.ok(alert, 'the group event says the group was active on two nodes');
  assert.equal(alert.level, 'error');
  assert.match(alert.message, /active on n1 and found active on n2 \(multiple active\)/);
  await c.waitFor('the stray copy is gone', () => !alive(stray));
  await sleep(1500);
  const samples = sampler.stop();
  await assertOneCopyAfter(c, samples, Date.parse(stopped.ts));
  assert.ok(
    samples.some((x) => activeNodes(x).join() === 'n1,n2'),
    'positive control: the sampler saw both copies before the stop',
  );
  assertLeftAlone(c, own, mark);
});

test('a group found active on both nodes at cold start is recovered to one copy, on the owner', async (t) => {
  const s = await probeCluster(t);
  const { c, id } = s;
  const strays = [strayCopy(t, s, 'n1'), strayCopy(t, s, 'n2')];
  const sampler = sampleCopies(id);
  t.after(() => sampler.stop());
  await c.waitFor('the sampler sees copies on both nodes', () =>
    sampler.samples.some((x) => activeNodes(x).join() === 'n1,n2'),
  );
  await twoAgents(c, async () => (await n1Runs(c, id, strays)) !== false);
  // n1 probes at start and finds its copy. Its restart quarantine usually keeps it from
  // acquiring before the checks answered, and then the probe stops the copy; on a loaded machine
  // the lease may come first, and then n1's start replaces the copy (the probe's event says so).
  // Either way n1 starts a copy of its own after the one it found is gone. n2 stops its copy.
  const one = await c.waitFor(`n1 records the copy pid ${strays[0]} it found`, () =>
    c
      .events('n1')
      .find((e) => e.details?.probe && e.resource === 'srv' && e.output?.includes(`pid ${strays[0]} `)),
  );
  const started = await c.waitFor('n1 starts app', () =>
    c.events('n1').find((e) => e.seq > one.seq && e.type === 'group' && e.message === 'app started'),
  );
  assert.ok(!alive(strays[0]!), "n1's start came after the copy it found was gone");
  const two = await probeEvents(c, 'n2', strays[1]!);
  await c.waitFor('both stray copies are gone', () => strays.every((pid) => !alive(pid)));
  await sleep(1500);
  const samples = sampler.stop();
  const recovered = Math.max(Date.parse(started.ts), Date.parse(two.stopped.ts));
  const own = await assertOneCopyAfter(c, samples, recovered);
  assert.ok(!strays.includes(own), 'the copy that runs is one the owner started');
});
