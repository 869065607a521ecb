import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { HALO_CLI } from '../support/cluster.js';
import {
  ETCD_BIN,
  type EtcdAgents,
  etcdAvailable,
  startEtcdAgents,
  startEtcdCluster,
} from '../support/etcd-cluster.js';
import { copiesSettle, sampleCopies } from '../support/node-copy-sampler.js';
import { needPeer } from '../support/requirements.js';

/**
 * Issue 14, case 1 in etcd mode: real agents against a real 3-member etcd. The owner's deadman
 * helper is killed, the agent restarts it at once (status, metrics, events show it), then the
 * agent is killed; every node's copies of the `process` resource are sampled every ~12 ms and
 * a single sample with two copies fails the test.
 */

async function api(agents: EtcdAgents, node: string, path: string): Promise<any> {
  const config = parse(readFileSync(join(agents.dir, 'halo.yaml'), 'utf8'));
  const token = readFileSync(join(agents.dir, `state-${node}`, 'api.token'), 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${config.nodes[node].apiPort}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) throw new Error(`${path} on ${node}: HTTP ${res.status}`);
  const text = await res.text();
  return path === '/metrics' ? text : JSON.parse(text);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    // A probe that throws (an agent not answering yet) is polled again; its last error is
    // reported if the wait times out.
    const v = await probe().catch((err: unknown) => {
      last = err;
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > until)
      throw new Error(
        `timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await sleep(25);
  }
}

test('in etcd mode the owner restarts a killed deadman helper at once, and a later kill -9 of the agent leaves exactly one copy', async (t) => {
  if (!needPeer(t, `etcd (${ETCD_BIN}; Debian package etcd-server)`, etcdAvailable())) return;
  const sampler = sampleCopies();
  t.after(() => sampler.stop());
  const etcd = await startEtcdCluster(t);
  const agents = await startEtcdAgents(t, {
    endpoints: etcd.endpoints,
    nodes: ['n1', 'n2'],
    groups: {
      g: {
        nodes: ['n1', 'n2'],
        resources: { app: { type: 'process', command: sampler.command, startGrace: '200ms' } },
      },
    },
    cli: HALO_CLI,
  });
  await agents.start('n1');
  await copiesSettle(sampler, ['n1'], 'the group running on n1', { stableMs: 300 });
  await agents.start('n2');
  await sleep(1000);

  const before = (await api(agents, 'n1', '/v1/status')).deadman;
  assert.equal(before.state, 'ready');
  assert.deepEqual(before.armed, ['g']);
  process.kill(before.pid, 'SIGKILL');
  const after = await waitFor('a new helper on n1', async () => {
    const d = (await api(agents, 'n1', '/v1/status')).deadman;
    return d.state === 'ready' && d.restarts === 1 && d.pid !== before.pid ? d : undefined;
  });
  assert.equal(after.lastExit.signal, 'SIGKILL');
  const metrics = await api(agents, 'n1', '/metrics');
  assert.match(metrics, /halo_deadman_restarts_total\{node="n1"\} 1\b/);
  assert.match(metrics, /halo_deadman_up\{node="n1",state="ready"\} 1\b/);
  const deadmanEvents = await waitFor('the two deadman events', async () => {
    const found = agents.events('n1').filter((e) => e['details']?.deadman);
    return found.length >= 2 ? found : undefined;
  });
  assert.deepEqual(
    deadmanEvents.map((e) => e['details'].deadman.state),
    ['down', 'ready'],
  );
  assert.doesNotMatch(agents.logs('n1'), /could not arm the deadman helper/);

  await agents.kill('n1', 'SIGKILL');
  await copiesSettle(sampler, ['n2'], 'the group running on n2 alone', { stableMs: 1500 });
  await sampler.stop();
  assert.deepEqual(sampler.overlaps().slice(0, 3), [], 'never two copies at once');
  assert.ok(sampler.samples.length > 200, `sampled ${sampler.samples.length} times`);
});
