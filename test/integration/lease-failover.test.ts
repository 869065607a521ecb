import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { encodeFrame } from '../../src/coordination/transport/codec.js';
import { type RunningCluster, startCluster } from '../support/cluster.js';

/**
 * The lease protocol on real processes over loopback: two agents and a witness, one group whose
 * script resource writes a marker file named after its node. The stop script records when
 * it ran, so the test can order the deadman's cleanup against the standby's grant.
 */
function markerGroup(dir: () => string) {
  void dir;
  return {
    web: {
      nodes: ['n1', 'n2'],
      resources: {
        marker: {
          type: 'script',
          start: 'echo "$HALO_TERM" > "marker.$HALO_NODE"',
          stop: 'if [ -f "marker.$HALO_NODE" ]; then rm -f "marker.$HALO_NODE"; date +%s%3N > "removed.$HALO_NODE"; fi',
          check: 'test -f "marker.$HALO_NODE" || exit 7',
        },
      },
    },
  };
}

async function twoNodes(t: Parameters<typeof startCluster>[0]): Promise<RunningCluster> {
  const c = await startCluster(t, { nodes: ['n1', 'n2'], groups: markerGroup(() => '') });
  await c.startAgent('n1');
  await c.startAgent('n2');
  await c.waitFor('web running on n1', () => existsSync(join(c.dir, 'marker.n1')));
  // Settled: every voter is past its restart quarantine, so renewals do not depend on luck.
  await c.waitFor('n2 out of quarantine', async () => !(await c.status('n2')).quarantined);
  await sleep(300);
  return c;
}

const acquiredAt = (c: RunningCluster, node: string) =>
  c.events(node).find((e) => e.type === 'lease' && /acquired/.test(e.message) && e.group === 'web');

test('kill -9 of the owner agent: the deadman helper removes the marker before the standby is granted the lease', async (t) => {
  const c = await twoNodes(t);
  await c.kill('n1', 'SIGKILL');
  await c.waitFor('marker removed by the deadman helper', () => !existsSync(join(c.dir, 'marker.n1')));
  await c.waitFor('web running on n2', () => existsSync(join(c.dir, 'marker.n2')));
  const removedMs = Number(readFileSync(join(c.dir, 'removed.n1'), 'utf8'));
  const grant = await c.waitFor('n2 grant event', () => acquiredAt(c, 'n2'));
  assert.ok(
    removedMs <= Date.parse(grant.ts),
    `marker removed at ${removedMs}, standby granted at ${grant.ts}`,
  );
  const status = await c.status('n2');
  assert.equal(status.groups[0].owner, 'n2');
});

test('killing the witness while both nodes run changes no ownership', async (t) => {
  const c = await twoNodes(t);
  const before = (await c.status('n1')).groups[0];
  await c.kill('witness');
  await sleep(3000); // six lease lengths of the fast profile
  const after = (await c.status('n1')).groups[0];
  assert.equal(after.owner, 'n1');
  assert.equal(after.term, before.term, 'the same lease term: no re-acquisition');
  assert.equal(after.state, 'running');
  assert.ok(!existsSync(join(c.dir, 'marker.n2')));
});

test('witness down, then the owner crashes: the group stays down until the witness is back', async (t) => {
  const c = await twoNodes(t);
  await c.kill('witness');
  await c.kill('n1', 'SIGKILL');
  await c.waitFor('deadman cleanup', () => !existsSync(join(c.dir, 'marker.n1')));
  await sleep(3000);
  assert.ok(!existsSync(join(c.dir, 'marker.n2')), 'n2 alone is no majority: it must not start the group');
  assert.equal((await c.status('n2')).quorum, false);
  await c.startWitness();
  await c.waitFor('web running on n2 after the witness returns', () => existsSync(join(c.dir, 'marker.n2')));
});

test('a tampered message or a wrong key is dropped, counted in a metric and never acted on', async (t) => {
  const c = await twoNodes(t);
  const before = await c.status('n1');
  const term = before.groups[0].term;
  const epoch = Number.parseInt(before.epoch, 16);
  const key = readFileSync(join(c.dir, 'cluster.key'));
  // The owner's own release of its lease, as n1 would send it: acted on when genuine.
  const header = { cluster: 'it', epoch, from: 'n1', bootId: 'forged', seq: 1, sentAt: 0 };
  const release = { k: 'lease', m: { type: 'release', g: 'web', owner: 'n1', term: Number(term) } };
  const wrongKey = encodeFrame(header, [release], Buffer.from('not the cluster key'));
  const tampered = Buffer.from(encodeFrame({ ...header, seq: 2 }, [release], key));
  tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 0xff;
  const sock = createSocket('udp4');
  let repeat: NodeJS.Timeout | undefined;
  t.after(() => {
    clearInterval(repeat);
    sock.close();
  });
  const witnessPort = Number(parse(readFileSync(c.configFile, 'utf8')).witness.port);
  const sendAll = async (frame: Buffer) => {
    for (const port of [c.ports['n1']!.peer, c.ports['n2']!.peer, witnessPort])
      await new Promise<void>((r) => sock.send(frame, port, '127.0.0.1', () => r()));
  };
  const badMac = async (node: string) => (await c.status(node)).droppedMessages['bad-mac'] ?? 0;
  const dropped = { n1: await badMac('n1'), n2: await badMac('n2') };
  for (const frame of [wrongKey, tampered]) await sendAll(frame);
  // Each node dropped exactly the two forged frames, as bad-mac, and says so in the metric.
  await c.waitFor('both forged frames dropped by n1 and n2', async () => {
    const [n1, n2] = [await badMac('n1'), await badMac('n2')];
    return n1 === dropped.n1 + 2 && n2 === dropped.n2 + 2;
  });
  const { body } = await c.api('n1', 'GET', '/metrics');
  assert.match(
    body as string,
    new RegExp(`halo_dropped_messages_total\\{reason="bad-mac"\\} ${dropped.n1 + 2}\\b`),
  );
  await sleep(1000);
  const g = (await c.status('n1')).groups[0];
  assert.equal(g.owner, 'n1');
  assert.equal(g.term, term, 'the forged release was not acted on');

  // Control: the same release with the cluster key is acted on: the acceptors drop n1's lease
  // and the standby takes the group under a new term. So "not acted on" above is the MAC's
  // doing. One release can lose the race against n1's next renewal (which re-establishes its
  // lease), so it is repeated until the standby wins.
  let seq = 3;
  repeat = setInterval(() => void sendAll(encodeFrame({ ...header, seq: seq++ }, [release], key)), 20);
  await c.waitFor(
    'a new term after the genuine release',
    async () => {
      const now = (await c.status('n2')).groups[0];
      return now.term !== null && now.term !== term;
    },
    20_000,
  );
  clearInterval(repeat);
});
