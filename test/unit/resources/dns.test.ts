import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { lookupAddresses } from '../../../src/engine/resources/dns/dns-client.js';
import { dnsResource } from '../../../src/engine/resources/dns/index.js';
import { dnsParams } from '../../../src/engine/resources/dns/params.js';
import { signMessage, tsigOf } from '../../../src/engine/resources/dns/tsig.js';
import { parseKeyFile, readKeyFile } from '../../../src/engine/resources/dns/tsig-key.js';
import { exchange } from '../../../src/engine/resources/dns/udp-exchange.js';
import {
  addressData,
  addressText,
  CLASS,
  canonicalAddress,
  decodeMessage,
  encodeMessage,
  encodeName,
  type Message,
  TYPE,
} from '../../../src/engine/resources/dns/wire.js';
import { resourceTypes as resourceSpecs } from '../../../src/engine/resources/registry.js';
import { HaloError } from '../../../src/errors.js';
import { makeContext, tempDir } from './context.js';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef');
const KEY_TEXT = `# made by tsig-keygen
key "halo-key" {
\talgorithm hmac-sha256;
\tsecret "${SECRET.toString('base64')}";
};
`;

function udpServer(
  t: { after: (fn: () => void) => void },
  onMessage: (msg: Buffer, s: Socket, from: { port: number }) => void,
) {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => onMessage(msg, socket, rinfo));
  t.after(() => socket.close());
  return new Promise<number>((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket.address().port)));
}

describe('dns wire format', () => {
  it('round-trips a message and follows compression pointers', () => {
    const msg: Message = {
      id: 0x1234,
      flags: 0x8400,
      question: [{ name: 'db.example.test', type: TYPE.A, class: CLASS.IN }],
      answer: [
        { name: 'db.example.test', type: TYPE.A, class: CLASS.IN, ttl: 30, data: addressData('10.0.0.1') },
      ],
      authority: [],
      additional: [],
    };
    const wire = encodeMessage(msg);
    const back = decodeMessage(wire);
    assert.equal(back.id, 0x1234);
    assert.deepEqual(back.question, msg.question);
    assert.equal(addressText(TYPE.A, back.answer[0]!.data), '10.0.0.1');

    // The same answer with its owner name as a pointer to the question (offset 12).
    const q = Buffer.concat([encodeName('db.example.test'), Buffer.from([0, 1, 0, 1])]);
    const rr = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0, 0, 2]);
    const header = Buffer.from([0, 1, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0]);
    const compressed = decodeMessage(Buffer.concat([header, q, rr]));
    assert.equal(compressed.answer[0]!.name, 'db.example.test');
    assert.equal(addressText(TYPE.A, compressed.answer[0]!.data), '10.0.0.2');
  });

  it('rejects truncated messages and pointer loops instead of reading past the end', () => {
    assert.throws(() => decodeMessage(Buffer.alloc(5)), /shorter than its header/);
    const loop = Buffer.concat([
      Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0xc0, 12, 0, 1, 0, 1]),
    ]);
    assert.throws(() => decodeMessage(loop), /compression loop/);
  });

  it('encodes IPv6 addresses in every text form and prints them canonically', () => {
    assert.equal(addressData('::1').toString('hex'), `${'0'.repeat(30)}01`);
    assert.equal(canonicalAddress('2001:0db8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(canonicalAddress('::ffff:10.0.0.1'), '::ffff:a00:1');
    assert.equal(canonicalAddress('fe80::'), 'fe80::');
    assert.equal(canonicalAddress('10.1.2.3'), '10.1.2.3');
  });
});

describe('dns TSIG key file', () => {
  it('reads a BIND key file and never shows the secret in JSON or inspect output', () => {
    const key = parseKeyFile(KEY_TEXT, 'halo.key');
    assert.equal(key.name, 'halo-key');
    assert.equal(key.algorithm, 'hmac-sha256');
    assert.deepEqual(key.secret, SECRET);
    const b64 = SECRET.toString('base64');
    assert.ok(!JSON.stringify({ key }).includes(b64));
    assert.ok(!inspect(key, { showHidden: false }).includes(b64));
    assert.ok(!JSON.stringify({ ...key }).includes(b64));
  });

  it('keeps a secret that contains "//" and still drops real comments', () => {
    const secret = 'ab//cdef+/gh';
    const text = `# made by tsig-keygen\nkey "k" { // the key\n  algorithm hmac-sha256; /* block */\n  secret "${secret}";\n};\n`;
    assert.equal(
      parseKeyFile(text, 'f').secret.toString('base64'),
      Buffer.from(secret, 'base64').toString('base64'),
    );
  });

  it('asks for keyName when the file holds several keys, and names unsupported algorithms', () => {
    const two = `${KEY_TEXT}key other { algorithm hmac-sha512; secret "${SECRET.toString('base64')}"; };`;
    assert.throws(() => parseKeyFile(two, 'f'), /several keys; set keyName/);
    assert.equal(parseKeyFile(two, 'f', 'other').algorithm, 'hmac-sha512');
    assert.throws(() => parseKeyFile(two, 'f', 'nope'), /no key named "nope"/);
    assert.throws(
      () => parseKeyFile(KEY_TEXT.replace('hmac-sha256', 'hmac-md5'), 'f'),
      /hmac-md5 is not supported/,
    );
    assert.throws(() => parseKeyFile('secret "abc";', 'f'), /no key statement.*tsig-keygen/);
  });

  it('refuses a key file other users can read, and says how to create a missing one', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'k.key');
    writeFileSync(file, KEY_TEXT, { mode: 0o644 });
    chmodSync(file, 0o644);
    assert.throws(
      () => readKeyFile(file),
      (err: unknown) =>
        err instanceof HaloError && err.code === 'HALO_E_SECRET' && /chmod 600/.test(err.message),
    );
    chmodSync(file, 0o600);
    assert.equal(readKeyFile(file).name, 'halo-key');
    assert.throws(() => readKeyFile(join(dir, 'missing.key')), /does not exist; create it with `tsig-keygen/);
  });
});

describe('dns parameters', () => {
  const base = {
    name: 'db.example.test',
    server: '127.0.0.1',
    keyFile: '/etc/halo/dns.key',
    addresses: { n1: '10.0.0.1' },
  };

  it('fills defaults and is registered as a type whose name is unique across groups', () => {
    const p = dnsParams.parse(base);
    assert.equal(p.port, 53);
    assert.equal(p.ttl, 30);
    assert.equal(p.deleteOnStop, false);
    assert.equal(p.callTimeout, 2000);
    assert.deepEqual(resourceSpecs.get('dns')?.uniqueAcrossGroups, ['name']);
    assert.deepEqual(resourceSpecs.get('dns')?.nodeKeyed, ['addresses']);
  });

  it('rejects a server given as a host name, bad addresses and a name outside its zone', () => {
    assert.equal(dnsParams.safeParse({ ...base, server: 'ns1.example.test' }).success, false);
    assert.equal(dnsParams.safeParse({ ...base, addresses: { n1: 'ten' } }).success, false);
    assert.equal(dnsParams.safeParse({ ...base, name: 'bad name' }).success, false);
    const outside = dnsResource.validate!(dnsParams.parse({ ...base, zone: 'other.test' }));
    assert.deepEqual(outside, [['zone', 'db.example.test is not inside zone other.test']]);
    assert.deepEqual(dnsResource.validate!(dnsParams.parse({ ...base, name: 'db' }))[0]?.[0], 'name');
  });

  it('fails to start with a clear error on a node that has no address', async () => {
    const r = dnsResource.create('dbname', dnsParams.parse(base));
    await assert.rejects(r.start(makeContext({ node: 'n9' })), /no address for node n9; add it to addresses/);
    assert.equal((await r.check(makeContext())).state, 'stopped');
  });
});

describe('dns UDP exchange', () => {
  it('resends to a silent server and gives up with HALO_E_DNS_TIMEOUT within its limit', async (t) => {
    let seen = 0;
    const port = await udpServer(t, () => seen++);
    const started = Date.now();
    await assert.rejects(
      exchange(Buffer.from('hello'), 1, {
        server: '127.0.0.1',
        port,
        timeoutMs: 900,
        signal: new AbortController().signal,
      }),
      (err: unknown) =>
        err instanceof HaloError &&
        err.code === 'HALO_E_DNS_TIMEOUT' &&
        /did not answer within/.test(err.message),
    );
    assert.ok(Date.now() - started < 5000);
    assert.ok(seen >= 2, `expected a resend, saw ${seen} datagrams`);
  });

  it('stops waiting as soon as the operation is aborted', async (t) => {
    const port = await udpServer(t, () => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(
      exchange(Buffer.from('x'), 1, { server: '127.0.0.1', port, timeoutMs: 60_000, signal: ac.signal }),
      /was cancelled/,
    );
  });
});

/** Server side of RFC 8945 §5.3, written out independently of tsig.ts. */
function signAnswer(answer: Message, requestMac: Buffer, timeSigned: number): Buffer {
  const name = encodeName('halo-key');
  const alg = encodeName('hmac-sha256');
  const time = Buffer.alloc(8);
  time.writeUInt16BE(0, 0);
  time.writeUInt32BE(timeSigned, 2);
  time.writeUInt16BE(300, 6);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(requestMac.length);
  const mac = createHmac('sha256', SECRET)
    .update(len)
    .update(requestMac)
    .update(encodeMessage(answer))
    .update(Buffer.concat([name, Buffer.from([0, 255, 0, 0, 0, 0]), alg, time, Buffer.from([0, 0, 0, 0])]))
    .digest();
  const macLen = Buffer.alloc(2);
  macLen.writeUInt16BE(mac.length);
  const idBuf = Buffer.alloc(2);
  idBuf.writeUInt16BE(answer.id);
  const rdata = Buffer.concat([alg, time, macLen, mac, idBuf, Buffer.from([0, 0, 0, 0])]);
  return encodeMessage({
    ...answer,
    additional: [{ name: 'halo-key', type: TYPE.TSIG, class: CLASS.ANY, ttl: 0, data: rdata }],
  });
}

describe('dns TSIG', () => {
  it('signs requests verifiably and accepts only answers signed over the request MAC', async (t) => {
    const key = parseKeyFile(KEY_TEXT, 'k');
    let tamper = false;
    const port = await udpServer(t, (msg, socket, from) => {
      const req = decodeMessage(msg);
      const tsig = tsigOf(req)!;
      // Check the request's MAC the way a server does (RFC 8945 §4.3).
      const body = Buffer.from(msg.subarray(0, req.additionalAt.at(-1)));
      body.writeUInt16BE(0, 10);
      const now = tsig.timeSigned;
      const time = Buffer.alloc(8);
      time.writeUInt32BE(now, 2);
      time.writeUInt16BE(300, 6);
      const expected = createHmac('sha256', SECRET)
        .update(body)
        .update(
          Buffer.concat([
            encodeName('halo-key'),
            Buffer.from([0, 255, 0, 0, 0, 0]),
            encodeName('hmac-sha256'),
            time,
            Buffer.from([0, 0, 0, 0]),
          ]),
        )
        .digest();
      assert.deepEqual(tsig.mac, expected, 'request MAC as a server computes it');
      const answer: Message = {
        id: req.id,
        flags: 0x8400,
        question: req.question,
        answer: [
          { name: 'db.example.test', type: TYPE.A, class: CLASS.IN, ttl: 30, data: addressData('10.0.0.7') },
        ],
        authority: [],
        additional: [],
      };
      const wire = signAnswer(answer, tsig.mac, Math.floor(Date.now() / 1000));
      if (tamper) wire[wire.length - 60] = (wire[wire.length - 60] ?? 0) ^ 1;
      socket.send(wire, from.port, '127.0.0.1');
    });
    const target = { server: '127.0.0.1', port, timeoutMs: 2000, signal: new AbortController().signal, key };
    const ok = await lookupAddresses(target, 'db.example.test', TYPE.A);
    assert.deepEqual(ok, { rcode: 'NOERROR', addresses: ['10.0.0.7'] });
    tamper = true;
    await assert.rejects(
      lookupAddresses(target, 'db.example.test', TYPE.A),
      /signature does not match our key|another/,
    );
  });

  it('puts the TSIG record last, with the original ID and the key name', () => {
    const key = parseKeyFile(KEY_TEXT, 'k');
    const msg: Message = { id: 77, flags: 5 << 11, question: [], answer: [], authority: [], additional: [] };
    const signed = signMessage(msg, key, 1_700_000_000);
    const back = decodeMessage(signed.wire);
    assert.equal(back.additional.length, 1);
    assert.equal(back.additional[0]!.name, 'halo-key');
    const tsig = tsigOf(back)!;
    assert.equal(tsig.originalId, 77);
    assert.equal(tsig.timeSigned, 1_700_000_000);
    assert.equal(tsig.mac.length, 32);
    assert.deepEqual(tsig.mac, signed.mac);
  });
});
