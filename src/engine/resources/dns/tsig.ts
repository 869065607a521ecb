import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TsigKey } from './tsig-key.js';
import {
  CLASS,
  type DecodedMessage,
  decodeName,
  encodeMessage,
  encodeName,
  type Message,
  normalizeName,
  TYPE,
} from './wire.js';

/**
 * TSIG (RFC 8945): an HMAC over the message and a few "TSIG variables", sent as the last
 * additional record. The request MAC is also mixed into the response's MAC (§5.3), so an
 * answer cannot be replayed for another request.
 */

/** Allowed clock difference between us and the server (RFC 8945 §10 recommends 300 s). */
export const FUDGE_SECONDS = 300;

export interface TsigRecord {
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

export interface SignedMessage {
  wire: Buffer;
  /** Needed to verify the answer. */
  mac: Buffer;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function time48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt16BE(Math.floor(seconds / 2 ** 32), 0);
  b.writeUInt32BE(seconds % 2 ** 32, 2);
  return b;
}

/** RFC 8945 §4.3.3: the variables covered by the MAC, names in canonical (lower-case) form. */
function variables(key: TsigKey, timeSigned: number, fudge: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([
    encodeName(normalizeName(key.name)),
    u16(CLASS.ANY),
    Buffer.alloc(4), // TTL 0
    encodeName(normalizeName(key.algorithm)),
    time48(timeSigned),
    u16(fudge),
    u16(error),
    u16(other.length),
    other,
  ]);
}

function hmac(key: TsigKey, parts: Buffer[]): Buffer {
  const h = createHmac(key.hash, key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Adds a TSIG record to `message` (which must not have one) and returns the wire form. */
export function signMessage(message: Message, key: TsigKey, nowSeconds: number): SignedMessage {
  const unsigned = encodeMessage(message);
  const timeSigned = Math.floor(nowSeconds);
  const mac = hmac(key, [unsigned, variables(key, timeSigned, FUDGE_SECONDS, 0, Buffer.alloc(0))]);
  const rdata = Buffer.concat([
    encodeName(normalizeName(key.algorithm)),
    time48(timeSigned),
    u16(FUDGE_SECONDS),
    u16(mac.length),
    mac,
    u16(message.id),
    u16(0),
    u16(0),
  ]);
  const wire = encodeMessage({
    ...message,
    additional: [
      ...message.additional,
      { name: key.name, type: TYPE.TSIG, class: CLASS.ANY, ttl: 0, data: rdata },
    ],
  });
  return { wire, mac };
}

export function parseTsig(data: Buffer): TsigRecord {
  const [algorithm, at] = decodeName(data, 0);
  if (at + 10 > data.length) throw new Error('TSIG record is truncated');
  const timeSigned = data.readUInt16BE(at) * 2 ** 32 + data.readUInt32BE(at + 2);
  const fudge = data.readUInt16BE(at + 6);
  const macLength = data.readUInt16BE(at + 8);
  const macEnd = at + 10 + macLength;
  if (macEnd + 6 > data.length) throw new Error('TSIG record is truncated');
  const otherLength = data.readUInt16BE(macEnd + 4);
  return {
    algorithm,
    timeSigned,
    fudge,
    mac: data.subarray(at + 10, macEnd),
    originalId: data.readUInt16BE(macEnd),
    error: data.readUInt16BE(macEnd + 2),
    other: data.subarray(macEnd + 6, macEnd + 6 + otherLength),
  };
}

/** The answer's TSIG record, if it ends with one. */
export function tsigOf(message: DecodedMessage): TsigRecord | undefined {
  const last = message.additional.at(-1);
  return last?.type === TYPE.TSIG ? parseTsig(last.data) : undefined;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Checks the MAC of an answer to a request signed with `requestMac` (RFC 8945 §5.3). The
 * caller handles answers whose TSIG carries an error (BADSIG, BADKEY, BADTIME): those are
 * unsigned by design and only tell why the server refused the request.
 */
export function verifyResponse(
  wire: Buffer,
  message: DecodedMessage,
  key: TsigKey,
  requestMac: Buffer,
  nowSeconds: number,
): Verdict {
  const tsig = tsigOf(message);
  const start = message.additionalAt.at(-1);
  const last = message.additional.at(-1);
  if (!tsig || start === undefined || !last)
    return { ok: false, reason: 'the answer is not signed (no TSIG)' };
  if (normalizeName(last.name) !== normalizeName(key.name))
    return { ok: false, reason: `the answer is signed with another key (${last.name})` };
  if (normalizeName(tsig.algorithm) !== normalizeName(key.algorithm))
    return { ok: false, reason: `the answer is signed with another algorithm (${tsig.algorithm})` };
  // The MAC covers the message as it was before the TSIG record was added: original ID,
  // one additional record fewer.
  const body = Buffer.from(wire.subarray(0, start));
  body.writeUInt16BE(tsig.originalId, 0);
  body.writeUInt16BE(message.additional.length - 1, 10);
  const expected = hmac(key, [
    u16(requestMac.length),
    requestMac,
    body,
    variables(key, tsig.timeSigned, tsig.fudge, tsig.error, tsig.other),
  ]);
  if (tsig.mac.length !== expected.length || !timingSafeEqual(tsig.mac, expected))
    return { ok: false, reason: 'the answer’s TSIG signature does not match our key' };
  if (Math.abs(nowSeconds - tsig.timeSigned) > tsig.fudge)
    return { ok: false, reason: 'the answer’s TSIG time is outside the allowed clock difference' };
  return { ok: true };
}
