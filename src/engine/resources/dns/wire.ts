import { isIPv4, isIPv6 } from 'node:net';

/**
 * The small part of the DNS wire format (RFC 1035 §4) the `dns` resource needs: a query for
 * one name, an UPDATE (RFC 2136 §2) and the parsing of their answers. Names are written
 * without compression (allowed everywhere, and TSIG requires it for its own fields).
 */

export const TYPE = { A: 1, SOA: 6, AAAA: 28, TSIG: 250, ANY: 255 } as const;
export const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE = { QUERY: 0, UPDATE: 5 } as const;

/** RCODEs (RFC 1035, RFC 2136 §2.2) and TSIG errors (RFC 8945 §3), by number. */
export const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
  16: 'BADSIG',
  17: 'BADKEY',
  18: 'BADTIME',
  22: 'BADTRUNC',
};

export function rcodeName(code: number): string {
  return RCODE_NAMES[code] ?? `RCODE${code}`;
}

export interface Question {
  name: string;
  type: number;
  class: number;
}

export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: Buffer;
}

export interface Message {
  id: number;
  /** QR, opcode, AA, TC, RD, RA, rcode: the second 16-bit word of the header. */
  flags: number;
  question: Question[];
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

export const isResponse = (m: Message): boolean => (m.flags & 0x8000) !== 0;
export const isTruncated = (m: Message): boolean => (m.flags & 0x0200) !== 0;
export const rcodeOf = (m: Message): number => m.flags & 0x000f;
export const opcodeOf = (m: Message): number => (m.flags >> 11) & 0x0f;

/** Lower-case, no trailing dot: the form names are compared in. */
export function normalizeName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/** A name as uncompressed wire labels (RFC 1035 §3.1). */
export function encodeName(name: string): Buffer {
  const trimmed = name.replace(/\.$/, '');
  const parts: Buffer[] = [];
  if (trimmed !== '') {
    for (const label of trimmed.split('.')) {
      const bytes = Buffer.from(label, 'ascii');
      if (bytes.length === 0 || bytes.length > 63)
        throw new Error(`DNS name "${name}" has an empty or long label`);
      parts.push(Buffer.from([bytes.length]), bytes);
    }
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > 255) throw new Error(`DNS name "${name}" is longer than 255 bytes`);
  return out;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function encodeRecord(r: ResourceRecord): Buffer {
  return Buffer.concat([
    encodeName(r.name),
    u16(r.type),
    u16(r.class),
    u32(r.ttl),
    u16(r.data.length),
    r.data,
  ]);
}

export function encodeMessage(m: Message): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(m.id, 0);
  header.writeUInt16BE(m.flags, 2);
  header.writeUInt16BE(m.question.length, 4);
  header.writeUInt16BE(m.answer.length, 6);
  header.writeUInt16BE(m.authority.length, 8);
  header.writeUInt16BE(m.additional.length, 10);
  return Buffer.concat([
    header,
    ...m.question.map((q) => Buffer.concat([encodeName(q.name), u16(q.type), u16(q.class)])),
    ...[...m.answer, ...m.authority, ...m.additional].map(encodeRecord),
  ]);
}

/** Reads a possibly compressed name at `offset`; returns it and the offset after it. */
export function decodeName(buf: Buffer, offset: number): [string, number] {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  for (let jumps = 0; ; ) {
    const len = byteAt(buf, pos);
    if (len === 0) {
      pos += 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (++jumps > 64) throw new Error('DNS message has a compression loop');
      if (end < 0) end = pos + 2;
      pos = ((len & 0x3f) << 8) | byteAt(buf, pos + 1);
      continue;
    }
    if (len > 63) throw new Error('DNS message has a bad label');
    if (pos + 1 + len > buf.length) throw new Error('DNS message is truncated');
    labels.push(buf.toString('ascii', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return [labels.join('.'), end < 0 ? pos : end];
}

function byteAt(buf: Buffer, pos: number): number {
  const b = buf[pos];
  if (b === undefined) throw new Error('DNS message is truncated');
  return b;
}

/** A parsed message, with where each additional record starts (TSIG verification needs it). */
export interface DecodedMessage extends Message {
  additionalAt: number[];
}

export function decodeMessage(buf: Buffer): DecodedMessage {
  if (buf.length < 12) throw new Error('DNS message is shorter than its header');
  const counts = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o));
  let pos = 12;
  const question: Question[] = [];
  for (let i = 0; i < (counts[0] ?? 0); i++) {
    const [name, next] = decodeName(buf, pos);
    if (next + 4 > buf.length) throw new Error('DNS message is truncated');
    question.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    pos = next + 4;
  }
  const starts: number[] = [];
  const section = (count: number): ResourceRecord[] => {
    const out: ResourceRecord[] = [];
    starts.length = 0;
    for (let i = 0; i < count; i++) {
      starts.push(pos);
      const [name, next] = decodeName(buf, pos);
      if (next + 10 > buf.length) throw new Error('DNS message is truncated');
      const length = buf.readUInt16BE(next + 8);
      if (next + 10 + length > buf.length) throw new Error('DNS message is truncated');
      out.push({
        name,
        type: buf.readUInt16BE(next),
        class: buf.readUInt16BE(next + 2),
        ttl: buf.readUInt32BE(next + 4),
        data: buf.subarray(next + 10, next + 10 + length),
      });
      pos = next + 10 + length;
    }
    return out;
  };
  const answer = section(counts[1] ?? 0);
  const authority = section(counts[2] ?? 0);
  const additional = section(counts[3] ?? 0);
  const additionalAt = [...starts];
  return {
    id: buf.readUInt16BE(0),
    flags: buf.readUInt16BE(2),
    question,
    answer,
    authority,
    additional,
    additionalAt,
  };
}

/** A (IPv4) or AAAA (IPv6) for an address. */
export function addressType(address: string): typeof TYPE.A | typeof TYPE.AAAA {
  if (isIPv4(address)) return TYPE.A;
  if (isIPv6(address)) return TYPE.AAAA;
  throw new Error(`"${address}" is not an IPv4 or IPv6 address`);
}

export function addressData(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new Error(`"${address}" is not an IPv4 or IPv6 address`);
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const [a, b, c, d] = v4[1].split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

/** The address in an A/AAAA record's data, in the usual text form. */
export function addressText(type: number, data: Buffer): string {
  if (type === TYPE.A && data.length === 4) return [...data].join('.');
  if (type === TYPE.AAAA && data.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(data.readUInt16BE(i).toString(16));
    return compressV6(groups);
  }
  return `<${data.toString('hex')}>`;
}

function compressV6(groups: string[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Canonical text of an address, so "::ffff:1" and "0:0::ffff:0:1" compare equal. */
export function canonicalAddress(address: string): string {
  return addressText(addressType(address), addressData(address));
}
