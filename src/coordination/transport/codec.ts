import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HaloError } from '../../errors.js';
import type { ReplayGuard } from './replay-guard.js';

/**
 * The authenticated frame every agent, witness and deadman helper exchanges (HMAC over the
 * whole frame with the cluster key; see the wire layout below).
 *
 * Wire layout:
 *   byte 0            format version (1)
 *   byte 1            L = byte length of the cluster name (1..255)
 *   bytes 2..2+L      cluster name, UTF-8, in clear so a witness serving several clusters can
 *                     pick the key before it verifies anything
 *   bytes 2+L..n-32   JSON body {e, f, b, s, t, p} (epoch, from, bootId, seq, sentAt, payloads)
 *   last 32 bytes     HMAC-SHA256(cluster key, every preceding byte)
 *
 * The MAC covers the exact bytes, so nothing is re-serialised before verification, and the
 * body is parsed only after the MAC checks out.
 */

export const FRAME_VERSION = 1;
const MAC_BYTES = 32;
const MAX_CLUSTER_BYTES = 255;

export interface FrameHeader {
  v: number;
  cluster: string;
  /** Config epoch of the sender; frames from another epoch are dropped. */
  epoch: number;
  /** Sender's node (or witness) name. */
  from: string;
  /** Random per process start; a new bootId from a sender is a restarted peer. */
  bootId: string;
  /** Strictly increasing per bootId; the replay guard accepts each value once. */
  seq: number;
  /** Sender's monotonic clock in ms when the frame was built (for RTT and drift checks). */
  sentAt: number;
}

export interface Frame {
  header: FrameHeader;
  payloads: unknown[];
}

export type DropReason =
  | 'bad-mac'
  | 'wrong-cluster'
  | 'wrong-epoch'
  | 'replay'
  | 'malformed'
  | 'unknown-sender';

export const DROP_REASONS: readonly DropReason[] = [
  'bad-mac',
  'wrong-cluster',
  'wrong-epoch',
  'replay',
  'malformed',
  'unknown-sender',
];

export type DecodeResult = { ok: true; frame: Frame } | { ok: false; reason: DropReason };

export interface DecodeOptions {
  /** The key of a cluster this receiver serves; undefined drops the frame as 'wrong-cluster'. */
  keyFor(cluster: string): Buffer | undefined;
  /** The epoch a cluster's frames must carry; undefined disables the check for that cluster. */
  epochFor?(cluster: string): number | undefined;
  /** Whether `from` may talk to us in `cluster`; absent accepts every authenticated sender. */
  acceptSender?(cluster: string, from: string): boolean;
  /** Checked last, so only fully valid frames consume a sequence number. */
  replay?: ReplayGuard;
}

/** Decode options for a receiver of exactly one cluster. */
export function singleClusterOptions(
  cluster: string,
  key: Buffer,
  epoch: number | undefined,
  extra: Pick<DecodeOptions, 'acceptSender' | 'replay'> = {},
): DecodeOptions {
  return {
    keyFor: (c) => (c === cluster ? key : undefined),
    epochFor: () => epoch,
    ...extra,
  };
}

export function newBootId(): string {
  return randomBytes(12).toString('hex');
}

export function encodeFrame(
  header: Omit<FrameHeader, 'v'>,
  payloads: readonly unknown[],
  key: Buffer,
): Buffer {
  if (key.length === 0)
    throw new HaloError('HALO_E_SECRET', 'the cluster key is empty; write a random key to the secret file');
  const cluster = Buffer.from(header.cluster, 'utf8');
  if (cluster.length === 0 || cluster.length > MAX_CLUSTER_BYTES) {
    throw new HaloError('HALO_E_INTERNAL', `cluster name must be 1..${MAX_CLUSTER_BYTES} bytes`, {
      cluster: header.cluster,
    });
  }
  const body = Buffer.from(
    JSON.stringify({
      e: header.epoch,
      f: header.from,
      b: header.bootId,
      s: header.seq,
      t: header.sentAt,
      p: payloads,
    }),
    'utf8',
  );
  const unsigned = Buffer.concat([Buffer.from([FRAME_VERSION, cluster.length]), cluster, body]);
  const mac = createHmac('sha256', key).update(unsigned).digest();
  return Buffer.concat([unsigned, mac]);
}

/** Bytes a frame adds around its JSON payload array (for batching decisions). */
export function frameOverheadBytes(header: Omit<FrameHeader, 'v'>): number {
  return (
    2 +
    Buffer.byteLength(header.cluster) +
    MAC_BYTES +
    Buffer.byteLength(
      JSON.stringify({
        e: header.epoch,
        f: header.from,
        b: header.bootId,
        s: header.seq,
        t: header.sentAt,
        p: [],
      }),
    )
  );
}

/** Reads the clear-text cluster name without verifying anything; null when not a frame. */
export function peekCluster(buf: Buffer): string | null {
  if (buf.length < 2 + 1 + MAC_BYTES || buf[0] !== FRAME_VERSION) return null;
  const len = buf[1] ?? 0;
  if (len === 0 || buf.length < 2 + len + MAC_BYTES + 2) return null;
  return buf.subarray(2, 2 + len).toString('utf8');
}

export function decodeFrame(buf: Buffer, opts: DecodeOptions): DecodeResult {
  const cluster = peekCluster(buf);
  if (cluster === null) return { ok: false, reason: 'malformed' };
  const key = opts.keyFor(cluster);
  if (key === undefined) return { ok: false, reason: 'wrong-cluster' };

  const macStart = buf.length - MAC_BYTES;
  const expected = createHmac('sha256', key).update(buf.subarray(0, macStart)).digest();
  if (!timingSafeEqual(expected, buf.subarray(macStart))) return { ok: false, reason: 'bad-mac' };

  const bodyStart = 2 + (buf[1] ?? 0);
  let body: unknown;
  try {
    body = JSON.parse(buf.subarray(bodyStart, macStart).toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const header = parseHeader(cluster, body);
  if (header === null) return { ok: false, reason: 'malformed' };

  const epoch = opts.epochFor?.(cluster);
  if (epoch !== undefined && header.epoch !== epoch) return { ok: false, reason: 'wrong-epoch' };
  if (opts.acceptSender && !opts.acceptSender(cluster, header.from))
    return { ok: false, reason: 'unknown-sender' };
  if (opts.replay && !opts.replay.accept(`${cluster}\u0000${header.from}`, header.bootId, header.seq)) {
    return { ok: false, reason: 'replay' };
  }
  return { ok: true, frame: { header, payloads: (body as { p: unknown[] }).p } };
}

function parseHeader(cluster: string, body: unknown): FrameHeader | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  const { e, f, b: bootId, s, t, p } = b;
  if (!Number.isSafeInteger(e) || typeof f !== 'string' || f.length === 0) return null;
  if (typeof bootId !== 'string' || bootId.length === 0 || bootId.length > 64) return null;
  if (!Number.isSafeInteger(s) || (s as number) < 0) return null;
  if (typeof t !== 'number' || !Number.isFinite(t)) return null;
  if (!Array.isArray(p)) return null;
  return {
    v: FRAME_VERSION,
    cluster,
    epoch: e as number,
    from: f,
    bootId,
    seq: s as number,
    sentAt: t,
  };
}
