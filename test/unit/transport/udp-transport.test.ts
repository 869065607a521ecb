import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import {
  type Link,
  type MessageMeta,
  UdpTransport,
  type UdpTransportOptions,
} from '../../../src/coordination/transport/udp-transport.js';
import { needPeer } from '../../support/requirements.js';

const key = randomBytes(32);
const LOOP: Link = { host: '127.0.0.1', port: 0 };

interface Received {
  from: string;
  payloads: unknown[];
  meta: MessageMeta;
}

async function node(
  t: TestContext,
  opts: Partial<UdpTransportOptions> & { self: string },
): Promise<[UdpTransport, Received[]]> {
  const transport = new UdpTransport({ cluster: 'c1', epoch: 1, key, listen: [LOOP], peers: {}, ...opts });
  t.after(() => transport.stop());
  await transport.start();
  const got: Received[] = [];
  transport.onMessage((from, payloads, meta) => got.push({ from, payloads, meta }));
  return [transport, got];
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits a little for datagrams that should NOT arrive (or for extra copies to be dropped). */
const settle = () => new Promise((r) => setTimeout(r, 150));

describe('UDP transport', () => {
  it('sends queued payloads to a peer as one batched frame on flush', async (t) => {
    const [a] = await node(t, { self: 'a' });
    const [b, got] = await node(t, { self: 'b' });
    a.reconfigure({ peers: { b: b.addresses() } });
    b.reconfigure({ peers: { a: a.addresses() } });
    a.send('b', { n: 1 });
    a.send('b', { n: 2 });
    a.send('b', 'three');
    assert.equal(a.stats().sent, 0, 'nothing leaves before flush');
    a.flush();
    await until(() => got.length === 1, 'the frame');
    await settle();
    assert.equal(got.length, 1);
    assert.equal(got[0]!.from, 'a');
    assert.deepEqual(got[0]!.payloads, [{ n: 1 }, { n: 2 }, 'three']);
    assert.equal(got[0]!.meta.bootId, a.id.bootId);
    assert.equal(got[0]!.meta.cluster, 'c1');
    assert.equal(a.stats().sent, 1);
    assert.equal(b.stats().received, 1);
  });

  it('delivers a frame sent over two links once and counts the copy as a replay', async (t) => {
    const [a] = await node(t, { self: 'a' });
    const [b, got] = await node(t, { self: 'b', listen: [LOOP, LOOP] });
    a.reconfigure({ peers: { b: b.addresses() } });
    b.reconfigure({ peers: { a: a.addresses() } });
    a.send('b', 'hello');
    a.flush();
    await until(() => b.stats().received + b.stats().dropped.replay === 2, 'both copies');
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]!.payloads, ['hello']);
    assert.equal(b.stats().dropped.replay, 1);
    assert.equal(a.stats().sent, 2);
  });

  it('splits a batch larger than the frame limit and keeps payload order', async (t) => {
    const [a] = await node(t, { self: 'a', maxFrameBytes: 8000 });
    const [b, got] = await node(t, { self: 'b' });
    a.reconfigure({ peers: { b: b.addresses() } });
    b.reconfigure({ peers: { a: a.addresses() } });
    const blob = 'x'.repeat(1500);
    for (let i = 0; i < 20; i++) a.send('b', { i, blob });
    a.flush();
    await until(() => got.flatMap((g) => g.payloads).length === 20, 'all payloads');
    assert.ok(got.length >= 4, `expected several frames, got ${got.length}`);
    assert.deepEqual(
      got.flatMap((g) => g.payloads).map((p) => (p as { i: number }).i),
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it('drops a payload that cannot fit in any frame and counts it', async (t) => {
    const [a] = await node(t, { self: 'a', maxFrameBytes: 2000 });
    const [b, got] = await node(t, { self: 'b' });
    a.reconfigure({ peers: { b: b.addresses() } });
    b.reconfigure({ peers: { a: a.addresses() } });
    a.send('b', 'y'.repeat(5000));
    a.send('b', 'small');
    a.flush();
    await until(() => got.length === 1, 'the small payload');
    assert.deepEqual(got[0]!.payloads, ['small']);
    assert.equal(a.stats().oversize, 1);
  });

  it('drops frames with a wrong key, of a wrong epoch and from unknown senders, counting each', async (t) => {
    const [b, got] = await node(t, { self: 'b' });
    const [wrongKey] = await node(t, { self: 'a', key: randomBytes(32) });
    const [wrongEpoch] = await node(t, { self: 'a', epoch: 2 });
    const [stranger] = await node(t, { self: 'mallory' });
    b.reconfigure({ peers: { a: [LOOP] } });
    for (const sender of [wrongKey, wrongEpoch, stranger]) {
      sender.reconfigure({ peers: { b: b.addresses() } });
      sender.send('b', 'evil');
      sender.flush();
    }
    await until(() => {
      const d = b.stats().dropped;
      return d['bad-mac'] === 1 && d['wrong-epoch'] === 1 && d['unknown-sender'] === 1;
    }, 'three drops');
    assert.equal(got.length, 0);
  });

  it('serves several clusters with their own keys and replies within the right cluster', async (t) => {
    const k2 = randomBytes(32);
    const [w, got] = await node(t, {
      self: 'witness',
      cluster: 'c1',
      key: undefined,
      keys: { c1: key, c2: k2 },
    });
    const [n1, got1] = await node(t, { self: 'n1', cluster: 'c1', key });
    const [m1, got2] = await node(t, { self: 'n1', cluster: 'c2', key: k2, epoch: 7 });
    w.reconfigure({ peers: { n1: n1.addresses() } });
    n1.reconfigure({ peers: { witness: w.addresses() } });
    m1.reconfigure({ peers: { witness: w.addresses() } });
    n1.send('witness', 'from c1');
    m1.send('witness', 'from c2');
    n1.flush();
    m1.flush();
    await until(() => got.length === 2, 'both clusters');
    assert.deepEqual(got.map((g) => `${g.meta.cluster}:${g.payloads[0]}`).sort(), [
      'c1:from c1',
      'c2:from c2',
    ]);

    // Replies to c2 need that cluster's peers; its epoch is mirrored from what was heard.
    const w2 = new UdpTransport({
      cluster: 'c1',
      epoch: 1,
      self: 'witness',
      keys: { c1: key, c2: k2 },
      listen: [LOOP],
      peers: { n1: n1.addresses() },
      clusterPeers: { c2: { n1: m1.addresses() } },
    });
    t.after(() => w2.stop());
    await w2.start();
    m1.reconfigure({ peers: { witness: w2.addresses() } });
    m1.send('witness', 'hello again');
    m1.flush();
    await until(() => w2.stats().received === 1, 'c2 frame at w2');
    w2.send('n1', 'reply c2', 'c2');
    w2.send('n1', 'reply c1');
    w2.flush();
    await until(() => got1.length === 1 && got2.length === 1, 'replies');
    assert.deepEqual(got2[0]!.payloads, ['reply c2']);
    assert.equal(got2[0]!.meta.epoch, 7);
    assert.deepEqual(got1[0]!.payloads, ['reply c1']);
  });

  it('works over IPv6 loopback when the host has it', async (t) => {
    const probe = new UdpTransport({
      cluster: 'c1',
      epoch: 1,
      self: 'x',
      key,
      listen: [{ host: '::1', port: 0 }],
      peers: {},
    });
    let hasV6 = true;
    try {
      await probe.start();
    } catch {
      hasV6 = false;
    } finally {
      await probe.stop();
    }
    if (!needPeer(t, 'IPv6 loopback (::1)', hasV6)) return;
    const six: Link = { host: '::1', port: 0 };
    const [a] = await node(t, { self: 'a', listen: [six] });
    const [b, got] = await node(t, { self: 'b', listen: [six] });
    a.reconfigure({ peers: { b: b.addresses() } });
    b.reconfigure({ peers: { a: [six] } });
    a.send('b', 'v6');
    a.flush();
    await until(() => got.length === 1, 'the v6 frame');
    assert.deepEqual(got[0]!.payloads, ['v6']);
  });

  it('refuses to send to a peer it does not know', async (t) => {
    const [a] = await node(t, { self: 'a' });
    assert.throws(() => a.send('nobody', 1), { code: 'HALO_E_INTERNAL' });
  });
});
