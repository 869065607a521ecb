import { randomInt } from 'node:crypto';
import { HaloError } from '../../../errors.js';
import { signMessage, tsigOf, verifyResponse } from './tsig.js';
import type { TsigKey } from './tsig-key.js';
import { type Answer, type ExchangeTarget, exchange } from './udp-exchange.js';
import {
  addressData,
  addressText,
  addressType,
  CLASS,
  type Message,
  normalizeName,
  OPCODE,
  type ResourceRecord,
  rcodeName,
  rcodeOf,
  TYPE,
} from './wire.js';

/**
 * RFC 2136 dynamic updates and plain queries against one authoritative server, signed with
 * TSIG and with the server's TSIG-signed answers verified. Every error message names the
 * server's answer (rcode and TSIG error) and what to check next.
 */

export interface DnsTarget extends ExchangeTarget {
  key: TsigKey;
  /** Seconds since the epoch, for TSIG (injectable for tests). */
  now?: () => number;
}

const nowSeconds = () => Date.now() / 1000;

/** Why a server refused, in words an operator can act on. */
const HINTS: Readonly<Record<string, string>> = {
  BADSIG: 'the key’s secret differs from the one the server has',
  BADKEY: 'the server does not know this key name or algorithm',
  BADTIME: 'this node’s clock and the server’s differ by more than 5 minutes',
  REFUSED: 'the server does not allow this key to update the zone (allow-update / update-policy)',
  NOTAUTH: 'the server is not authoritative for the zone',
  NOTZONE: 'the name is not inside the zone',
  SERVFAIL: 'the server failed to apply the update; see its log',
};

async function signedExchange(message: Message, t: DnsTarget, what: string): Promise<Answer> {
  const now = t.now ?? nowSeconds;
  const signed = signMessage(message, t.key, now());
  const answer = await exchange(signed.wire, message.id, t);
  const where = `DNS server ${t.server}:${t.port}`;
  const rcode = rcodeOf(answer.message);
  const tsig = tsigOf(answer.message);
  if (tsig && tsig.error !== 0) {
    const error = rcodeName(tsig.error);
    throw refusal(
      `${where} refused ${what}: ${rcodeName(rcode)}/${error} (${HINTS[error] ?? 'TSIG error'})`,
      {
        rcode: rcodeName(rcode),
        tsigError: error,
        key: t.key.name,
      },
    );
  }
  if (tsig || rcode === 0) {
    const verdict = verifyResponse(answer.wire, answer.message, t.key, signed.mac, now());
    if (!verdict.ok)
      throw refusal(`${where} answered ${what} with ${rcodeName(rcode)}, but ${verdict.reason}`, {
        rcode: rcodeName(rcode),
      });
  }
  return answer;
}

function refusal(message: string, details: Record<string, unknown>): HaloError {
  return new HaloError('HALO_E_DNS_UPDATE_REFUSED', message, details);
}

function rcodeError(t: DnsTarget, what: string, rcode: number): HaloError {
  const name = rcodeName(rcode);
  return refusal(
    `DNS server ${t.server}:${t.port} refused ${what}: ${name}${HINTS[name] ? ` (${HINTS[name]})` : ''}`,
    {
      rcode: name,
    },
  );
}

const newId = () => randomInt(0, 0x10000);

function deleteRrset(name: string, type: number): ResourceRecord {
  return { name, type, class: CLASS.ANY, ttl: 0, data: Buffer.alloc(0) };
}

/**
 * Replaces whatever A and AAAA records `name` has with one record for `address` (RFC 2136
 * §2.5.2 "delete an RRset", then §2.5.1 "add to an RRset", applied atomically by the server).
 * Both families are cleared so nodes of different families can take the name in turn.
 */
export async function replaceAddress(
  t: DnsTarget,
  zone: string,
  name: string,
  address: string,
  ttl: number,
): Promise<void> {
  const what = `the update of ${name} → ${address}`;
  const answer = await signedExchange(
    {
      id: newId(),
      flags: OPCODE.UPDATE << 11,
      question: [{ name: zone, type: TYPE.SOA, class: CLASS.IN }],
      answer: [],
      authority: [
        deleteRrset(name, TYPE.A),
        deleteRrset(name, TYPE.AAAA),
        { name, type: addressType(address), class: CLASS.IN, ttl, data: addressData(address) },
      ],
      additional: [],
    },
    t,
    what,
  );
  const rcode = rcodeOf(answer.message);
  if (rcode !== 0) throw rcodeError(t, what, rcode);
}

/**
 * Deletes the address records of `name`, but only while `address` is still among them
 * (prerequisite "RRset exists, value dependent", RFC 2136 §2.4.2): a node never removes a
 * name that a newer owner already points elsewhere. Returns false when it was not ours.
 */
export async function deleteAddressIfOurs(
  t: DnsTarget,
  zone: string,
  name: string,
  address: string,
): Promise<boolean> {
  const what = `the removal of ${name} → ${address}`;
  const answer = await signedExchange(
    {
      id: newId(),
      flags: OPCODE.UPDATE << 11,
      question: [{ name: zone, type: TYPE.SOA, class: CLASS.IN }],
      answer: [{ name, type: addressType(address), class: CLASS.IN, ttl: 0, data: addressData(address) }],
      authority: [deleteRrset(name, TYPE.A), deleteRrset(name, TYPE.AAAA)],
      additional: [],
    },
    t,
    what,
  );
  const rcode = rcodeOf(answer.message);
  if (rcode === 8) return false; // NXRRSET: the prerequisite failed, the name is not ours
  if (rcode !== 0) throw rcodeError(t, what, rcode);
  return true;
}

export interface Lookup {
  /** NOERROR, NXDOMAIN, … */
  rcode: string;
  /** Addresses of the asked type, canonical text. */
  addresses: string[];
}

/**
 * Asks the server itself for the A or AAAA records of `name`, signed like the updates (so a
 * server that restricts queries to the key answers, and the answer is authenticated).
 */
export async function lookupAddresses(t: DnsTarget, name: string, type: number): Promise<Lookup> {
  const answer = await signedExchange(
    {
      id: newId(),
      flags: OPCODE.QUERY << 11,
      question: [{ name, type, class: CLASS.IN }],
      answer: [],
      authority: [],
      additional: [],
    },
    t,
    `the query for ${name}`,
  );
  const rcode = rcodeOf(answer.message);
  if (rcode !== 0 && rcode !== 3) throw rcodeError(t, `the query for ${name}`, rcode);
  const addresses = answer.message.answer
    .filter((r) => r.type === type && r.class === CLASS.IN && normalizeName(r.name) === normalizeName(name))
    .map((r) => addressText(r.type, r.data));
  return { rcode: rcodeName(rcode), addresses };
}
