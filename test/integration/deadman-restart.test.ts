import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { findProcesses } from '../../src/engine/exec/index.js';
import { type RunningCluster, startCluster } from '../support/cluster.js';
import { type CopySampler, copiesSettle, sampleCopies } from '../support/node-copy-sampler.js';

/**
 * The owner's deadman helper dies first (issue 14, case 1), on real agents over loopback with
 * the embedded backend: the agent restarts the helper at once and says so in status, metrics
 * and events; killing the agent afterwards is then fenced by the new helper, and the group
 * ends up running exactly once. Killing the agent and the helper together is fenced by the
 * lifeline watcher. Every node's copies of the `process` resource are sampled every ~12 ms
 * throughout, and a single sample with two copies fails the test.
 */

function groups(sampler: CopySampler) {
  return {
    g: {
      nodes: ['n1', 'n2'],
      resources: { app: { type: 'process', command: sampler.command, startGrace: '200ms' } },
    },
  };
}

async function cluster(t: Parameters<typeof startCluster>[0], sampler: CopySampler): Promise<RunningCluster> {
  const c = await startCluster(t, { nodes: ['n1', 'n2'], groups: groups(sampler) });
  await c.startAgent('n1');
  await copiesSettle(sampler, ['n1'], 'the group running on n1', { stableMs: 300 });
  await c.startAgent('n2');
  await c.waitFor('n2 out of quarantine', async () => !(await c.status('n2')).quarantined);
  await sleep(300);
  return c;
}

/** PID of a node's agent process (its command line names the config and the node). */
async function agentPid(c: RunningCluster, node: string): Promise<number> {
  const found = await findProcesses(new RegExp(`agent -c ${c.configFile} --node ${node}\\b`));
  assert.equal(found.length, 1, `one agent process for ${node}`);
  return found[0]!.pid;
}

test('the owner restarts a killed deadman helper at once, shows it in status, metrics and events, and a later kill -9 of the agent leaves exactly one copy', async (t) => {
  const sampler = sampleCopies();
  t.after(() => sampler.stop());
  const c = await cluster(t, sampler);
  const before = (await c.status('n1')).deadman;
  assert.equal(before.state, 'ready');
  assert.deepEqual(before.armed, ['g']);
  process.kill(before.pid, 'SIGKILL');

  const after = await c.waitFor('a new helper on n1', async () => {
    const d = (await c.status('n1')).deadman;
    return d.state === 'ready' && d.restarts === 1 && d.pid !== before.pid ? d : undefined;
  });
  assert.equal(after.lastExit.signal, 'SIGKILL');
  const { body: metrics } = await c.api('n1', 'GET', '/metrics');
  assert.match(metrics as string, /halo_deadman_restarts_total\{node="n1"\} 1\b/);
  assert.match(metrics as string, /halo_deadman_up\{node="n1",state="ready"\} 1\b/);
  const deadmanEvents = await c.waitFor('the two deadman events', () => {
    const found = c.events('n1').filter((e) => e.details?.deadman);
    return found.length >= 2 ? found : undefined;
  });
  assert.deepEqual(
    deadmanEvents.map((e) => e.details.deadman.state),
    ['down', 'ready'],
  );
  assert.match(deadmanEvents[0].message, /killed by SIGKILL/);
  assert.doesNotMatch(c.logs('n1'), /could not arm the deadman helper/);

  // Wherever the group is now (still n1, or n2 if the restart missed the demote point), the
  // original owner's agent dies next; the group must end up running exactly once.
  await c.kill('n1', 'SIGKILL');
  await copiesSettle(sampler, ['n2'], 'the group running on n2 alone');
  // The restarted owner comes back; the group still runs exactly once (on n2, or on n1 if a
  // loaded machine cost n2 its lease meanwhile).
  await c.startAgent('n1');
  await c.waitFor('n1 out of quarantine', async () => !(await c.status('n1')).quarantined);
  await copiesSettle(sampler, 'any one', 'the group running exactly once', { stableMs: 1500 });
  await sampler.stop();
  assert.deepEqual(sampler.overlaps().slice(0, 3), [], 'never two copies at once');
  assert.ok(sampler.samples.length > 200, `sampled ${sampler.samples.length} times`);
});

test('killing the owner agent and its deadman helper together still leaves no second copy: the lifeline watcher ends the program', async (t) => {
  const sampler = sampleCopies();
  t.after(() => sampler.stop());
  const c = await cluster(t, sampler);
  const helper = (await c.status('n1')).deadman.pid as number;
  const agent = await agentPid(c, 'n1');
  process.kill(helper, 'SIGKILL');
  process.kill(agent, 'SIGKILL');
  await copiesSettle(sampler, ['n2'], 'the group running on n2 alone');
  await sampler.stop();
  assert.deepEqual(sampler.overlaps().slice(0, 3), [], 'never two copies at once');
  // The program on n1 was gone before n2 started its own.
  const lastN1 = sampler.samples.findLast((s) => s.nodes.includes('n1'));
  const firstN2 = sampler.samples.find((s) => s.nodes.includes('n2'));
  assert.ok(lastN1 && firstN2 && lastN1.at < firstN2.at);
});

/** Deadman helpers whose parent is `agent` (read from /proc). */
async function helpersOf(agent: number): Promise<number[]> {
  const found = await findProcesses(/deadman\/main\.js/);
  return found
    .map((p) => p.pid)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === agent;
      } catch {
        return false;
      }
    });
}

test('an owner whose helper keeps dying demotes before its lease can run out, and the group still runs exactly once', async (t) => {
  const sampler = sampleCopies();
  t.after(() => sampler.stop());
  const c = await cluster(t, sampler);
  const agent = await agentPid(c, 'n1');
  // Every helper n1 starts is killed at once, for longer than the owner's covered window.
  const until = Date.now() + 2500;
  while (Date.now() < until) {
    for (const pid of await helpersOf(agent)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await sleep(5);
  }
  await c.waitFor('a lease dropped for want of a helper', () =>
    c.logs('n1').includes('the deadman helper is not running'),
  );
  await c.waitFor('a helper on n1 again', async () => (await c.status('n1')).deadman.state === 'ready');
  await copiesSettle(sampler, 'any one', 'the group running exactly once', { stableMs: 1500 });
  await sampler.stop();
  assert.deepEqual(sampler.overlaps().slice(0, 3), [], 'never two copies at once');
});
