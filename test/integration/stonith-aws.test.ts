import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, type TestContext, test } from 'node:test';
import * as ec2 from '@aws-sdk/client-ec2';
import { startCluster } from '../support/cluster.js';
import { MOTO_REGION, type Moto, startMoto } from '../support/moto.js';
import { needPeer } from '../support/requirements.js';

/**
 * fencing: stonith with the aws device, end to end: two agents and a witness on loopback,
 * moto_server as EC2. The owner is cut from both peers with nftables (its UDP peer port dropped
 * in both directions on lo, so the agent keeps running and keeps reaching moto over TCP). The
 * new owner must stop the old owner's instance (StopInstances Force) and see it `stopped`
 * before its resources start; a group whose device names an instance EC2 does not know stays
 * down with the reason in status.
 */

const motoOk = spawnSync('sh', ['-c', 'command -v moto_server']).status === 0;
const nftOk = spawnSync('sh', ['-c', 'command -v nft']).status === 0;
const isRoot = process.getuid?.() === 0;

/** Drops every UDP datagram to or from `port` on this host (loopback included); removed by the returned function. */
function cutUdpPort(t: TestContext, port: number): () => void {
  const table = `halo_fence_${randomBytes(4).toString('hex')}`;
  const remove = () => spawnSync('nft', ['delete', 'table', 'inet', table]);
  t.after(remove);
  execFileSync('nft', ['-f', '-'], {
    input: `table inet ${table} {
  chain input { type filter hook input priority -10; policy accept; udp sport ${port} drop; udp dport ${port} drop; }
  chain output { type filter hook output priority -10; policy accept; udp sport ${port} drop; udp dport ${port} drop; }
}
`,
  });
  return remove;
}

async function runInstances(moto: Moto, n: number): Promise<string[]> {
  const images = await moto.client.send(new ec2.DescribeImagesCommand({}));
  const ami = images.Images?.[0]?.ImageId ?? 'ami-12c6146b';
  const out = await moto.client.send(
    new ec2.RunInstancesCommand({ ImageId: ami, MinCount: n, MaxCount: n, InstanceType: 't3.micro' }),
  );
  return (out.Instances ?? []).map((i) => i.InstanceId!);
}

async function stateOf(moto: Moto, id: string): Promise<string | undefined> {
  const out = await moto.client.send(new ec2.DescribeInstancesCommand({ InstanceIds: [id] }));
  return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

describe('fencing: stonith with the aws device against moto', () => {
  test('isolating the owner: the new owner stops its instance and starts only after EC2 says stopped; a bad instance id keeps the group down', async (t) => {
    if (!needPeer(t, 'moto_server (pip moto[server])', motoOk)) return;
    if (!needPeer(t, 'root and nft (nftables) to cut the owner off', nftOk && isRoot)) return;
    const moto = await startMoto(t);
    const [i1, i2] = (await runInstances(moto, 2)) as [string, string];
    const stonith = (instances: Record<string, string>) => ({
      device: {
        type: 'aws',
        instances,
        endpoint: moto.endpoint,
        region: MOTO_REGION,
        callTimeout: '3s',
        pollInterval: '200ms',
      },
      timeout: '10s',
      retryInterval: '1s',
    });
    const resource = { type: 'script', start: 'true', stop: 'true' };
    const cluster = await startCluster(t, {
      nodes: ['n1', 'n2'],
      groups: {
        good: {
          nodes: ['n1', 'n2'],
          fencing: 'stonith',
          stonith: stonith({ n1: i1, n2: i2 }),
          resources: { app: resource },
        },
        // n1's entry names an instance EC2 does not have: fencing n1 must fail.
        bad: {
          nodes: ['n1', 'n2'],
          fencing: 'stonith',
          stonith: stonith({ n1: 'i-00000000000000000', n2: i2 }),
          resources: { app: resource },
        },
      },
    });
    await cluster.startAgent('n1');
    await cluster.startAgent('n2');
    const phase = async (node: string, group: string) =>
      (await cluster.status(node)).groups.find((g: { name: string }) => g.name === group);
    await cluster.waitFor('n1 runs both groups', async () => {
      const [a, b] = [await phase('n1', 'good'), await phase('n1', 'bad')];
      return a?.state === 'running' && b?.state === 'running';
    });
    // n2 must have seen n1 hold the leases (it fences only a holder it saw; docs/fencing.md).
    await cluster.waitFor('n2 sees n1 owning both groups', async () => {
      const [a, b] = [await phase('n2', 'good'), await phase('n2', 'bad')];
      return a?.owner === 'n1' && b?.owner === 'n1';
    });
    // First owner since start: nobody was fenced.
    assert.equal(await stateOf(moto, i1), 'running');

    // Sample both nodes' phase of `good` through the failover: never both running.
    const overlaps: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [a, b] = await Promise.all(
          ['n1', 'n2'].map((n) =>
            phase(n, 'good').then(
              (g) => g?.state,
              () => 'unreachable',
            ),
          ),
        );
        if (a === 'running' && b === 'running') overlaps.push(new Date().toISOString());
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    t.after(async () => {
      sampling = false;
      await sampler;
    });

    cutUdpPort(t, cluster.ports['n1']!.peer);

    const good = await cluster.waitFor(
      'n2 runs good',
      async () => {
        const g = await phase('n2', 'good');
        return g?.state === 'running' ? g : undefined;
      },
      60_000,
    );
    assert.equal(
      good.fencing?.phase,
      'fenced',
      JSON.stringify([
        good.fencing,
        cluster
          .events('n2')
          .filter((e) => e.group === 'good')
          .map((e) => e.message),
      ]),
    );
    sampling = false;
    await sampler;
    assert.deepEqual(overlaps, [], 'both nodes ran the group at once');
    assert.equal(await stateOf(moto, i1), 'stopped');
    assert.equal(await stateOf(moto, i2), 'running');

    // The order in n2's own event log: fenced (confirmed stopped) before the resource ran.
    const events = cluster.events('n2').filter((e) => e.group === 'good');
    const fenced = events.find((e) => /^n1 fenced: instance i-[0-9a-f]+ is stopped/.test(e.message));
    const ran = events.find((e) => e.resource === 'app' && e.message === 'app running');
    assert.ok(fenced && ran, `fence and start events in ${JSON.stringify(events.map((e) => e.message))}`);
    assert.ok(fenced.seq < ran.seq && Date.parse(fenced.ts) <= Date.parse(ran.ts));

    // The bad device: n2 holds the lease but the group stays down, saying why.
    const bad = await cluster.waitFor('bad group reports the failed fence', async () => {
      const g = await phase('n2', 'bad');
      return /fencing n1 failed/.test(g?.lastError ?? '') ? g : undefined;
    });
    assert.equal(bad.state, 'stopped');
    assert.match(bad.lastError, /InvalidInstanceID/);
    assert.equal(bad.fencing?.phase === 'waiting' || bad.fencing?.phase === 'fencing', true);
    assert.ok(
      cluster
        .events('n2')
        .some((e) => e.group === 'bad' && e.level === 'error' && /fencing n1 failed/.test(e.message)),
    );
    assert.ok(!cluster.events('n2').some((e) => e.group === 'bad' && e.message === 'app running'));
  });
});
