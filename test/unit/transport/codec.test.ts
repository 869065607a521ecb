import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  type DecodeOptions,
  decodeFrame,
  encodeFrame,
  type FrameHeader,
  singleClusterOptions,
} from '../../../src/coordination/transport/codec.js';
import { ReplayGuard } from '../../../src/coordination/transport/replay-guard.js';

const key = randomBytes(32);
const header: Omit<FrameHeader, 'v'> = {
  cluster: 'minio-ha',
  epoch: 3,
  from: 'server1',
  bootId: 'b00t',
  seq: 1,
  sentAt: 12345.678,
};
const payloads = [{ type: 'PREPARE', g: 'failover', b: '17:0' }, 'two', 3, null, [1, { x: true }]];

function opts(extra: Partial<DecodeOptions> = {}): DecodeOptions {
  return { ...singleClusterOptions('minio-ha', key, 3), ...extra };
}

describe('frame codec', () => {
  it('round-trips the header and a batch of JSON payloads', () => {
    const result = decodeFrame(encodeFrame(header, payloads, key), opts());
    assert.equal(result.ok, true);
    assert.ok(result.ok);
    assert.deepEqual(result.frame.header, { v: 1, ...header });
    assert.deepEqual(result.frame.payloads, payloads);
  });

  it('drops a frame with any single byte changed as bad-mac', () => {
    const frame = encodeFrame(header, payloads, key);
    // Every byte after the clear-text cluster name, including the MAC itself.
    for (let i = 2 + header.cluster.length; i < frame.length; i++) {
      const tampered = Buffer.from(frame);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      const result = decodeFrame(tampered, opts());
      assert.deepEqual(result, { ok: false, reason: 'bad-mac' }, `byte ${i}`);
    }
  });

  it('drops a frame signed with another key as bad-mac', () => {
    const frame = encodeFrame(header, payloads, randomBytes(32));
    assert.deepEqual(decodeFrame(frame, opts()), { ok: false, reason: 'bad-mac' });
  });

  it('drops a frame of another cluster as wrong-cluster, before checking its MAC', () => {
    const frame = encodeFrame({ ...header, cluster: 'other' }, payloads, key);
    assert.deepEqual(decodeFrame(frame, opts()), { ok: false, reason: 'wrong-cluster' });
  });

  it('a changed cluster name byte cannot pass as another cluster with the same key', () => {
    const a = encodeFrame({ ...header, cluster: 'aaaa' }, payloads, key);
    a[2] = 'b'.charCodeAt(0);
    const both: DecodeOptions = { keyFor: () => key };
    assert.deepEqual(decodeFrame(a, both), { ok: false, reason: 'bad-mac' });
  });

  it('drops a frame of another config epoch as wrong-epoch', () => {
    const frame = encodeFrame({ ...header, epoch: 4 }, payloads, key);
    assert.deepEqual(decodeFrame(frame, opts()), { ok: false, reason: 'wrong-epoch' });
    assert.equal(decodeFrame(frame, singleClusterOptions('minio-ha', key, undefined)).ok, true);
  });

  it('drops a frame from a sender the receiver does not accept as unknown-sender', () => {
    const frame = encodeFrame(header, payloads, key);
    const result = decodeFrame(frame, opts({ acceptSender: (_c, from) => from === 'server2' }));
    assert.deepEqual(result, { ok: false, reason: 'unknown-sender' });
  });

  it('delivers a frame once and drops the same frame again as replay', () => {
    const replay = new ReplayGuard();
    const frame = encodeFrame(header, payloads, key);
    assert.equal(decodeFrame(frame, opts({ replay })).ok, true);
    assert.deepEqual(decodeFrame(frame, opts({ replay })), { ok: false, reason: 'replay' });
  });

  it('does not consume a sequence number for a frame it rejects', () => {
    const replay = new ReplayGuard();
    const wrongEpoch = encodeFrame({ ...header, epoch: 9 }, payloads, key);
    assert.deepEqual(decodeFrame(wrongEpoch, opts({ replay })), { ok: false, reason: 'wrong-epoch' });
    assert.equal(decodeFrame(encodeFrame(header, payloads, key), opts({ replay })).ok, true);
  });

  it('drops truncated and garbage input as malformed', () => {
    const frame = encodeFrame(header, payloads, key);
    assert.deepEqual(decodeFrame(Buffer.alloc(0), opts()), { ok: false, reason: 'malformed' });
    assert.deepEqual(decodeFrame(Buffer.from('hello world'), opts()), { ok: false, reason: 'malformed' });
    assert.deepEqual(decodeFrame(frame.subarray(0, 20), opts()), { ok: false, reason: 'malformed' });
  });

  it('picks the key by cluster name for a receiver serving several clusters', () => {
    const keyB = randomBytes(32);
    const keys: Record<string, Buffer> = { 'minio-ha': key, other: keyB };
    const multi: DecodeOptions = { keyFor: (c) => keys[c] };
    assert.equal(decodeFrame(encodeFrame(header, payloads, key), multi).ok, true);
    assert.equal(decodeFrame(encodeFrame({ ...header, cluster: 'other' }, payloads, keyB), multi).ok, true);
    assert.deepEqual(decodeFrame(encodeFrame({ ...header, cluster: 'other' }, payloads, key), multi), {
      ok: false,
      reason: 'bad-mac',
    });
  });

  it('never puts the key into an error message', () => {
    const secret = Buffer.from('super-secret-key-material-0123456789');
    assert.throws(
      () => encodeFrame({ ...header, cluster: 'x'.repeat(300) }, payloads, secret),
      (err: Error) =>
        !err.message.includes(secret.toString()) && !JSON.stringify(err).includes(secret.toString('hex')),
    );
  });
});
