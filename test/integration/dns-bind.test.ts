import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { dnsResource } from '../../src/engine/resources/dns/index.js';
import { type DnsParams, dnsParams } from '../../src/engine/resources/dns/params.js';
import type { ResourceContext } from '../../src/engine/resources/types.js';
import { silentLogger } from '../../src/log.js';
import { type Bind, startBind } from '../support/bind.js';
import { stopProcess } from '../support/ports-and-processes.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The `dns` resource against a real BIND 9 on loopback, without agents: our own RFC 2136
 * and TSIG code must be accepted by named, and named's refusals must come back as errors
 * that name its answer.
 */

const LIMIT = { timeout: 60_000 };
const NAME = 'db.example.test';
const ADDRESSES = { n1: '127.0.0.11', n2: '127.0.0.12', n6: '::1' };

function ctx(node: string): ResourceContext {
  return {
    cluster: 'it',
    node,
    group: 'g',
    resource: 'dbname',
    term: '1',
    signal: AbortSignal.timeout(10_000),
    log: silentLogger,
    stateDir: '/nonexistent',
  };
}

function params(bind: Bind, extra: Record<string, unknown> = {}): DnsParams {
  return dnsParams.parse({
    name: NAME,
    server: bind.address,
    port: bind.port,
    keyFile: bind.keyFile,
    addresses: ADDRESSES,
    ttl: 5,
    ...extra,
  });
}

test('start replaces the record with this node’s address; check follows the record', LIMIT, async (t) => {
  const bind = await startBind(t);
  const n1 = dnsResource.create('dbname', params(bind));
  const n2 = dnsResource.create('dbname', params(bind));
  await n1.start(ctx('n1'));
  assert.deepEqual(await bind.dig(NAME), ['127.0.0.11']);
  assert.equal((await n1.check(ctx('n1'))).state, 'running');

  await n1.stop(ctx('n1'));
  assert.deepEqual(await bind.dig(NAME), ['127.0.0.11'], 'stop leaves the record for the next owner');
  await n2.start(ctx('n2'));
  assert.deepEqual(await bind.dig(NAME), ['127.0.0.12'], 'one A record, the new owner’s');
  assert.equal((await n2.check(ctx('n2'))).state, 'running');

  // An IPv6 node takes the name: the A record goes, an AAAA comes.
  const n6 = dnsResource.create('dbname', params(bind));
  await n6.start(ctx('n6'));
  assert.deepEqual(await bind.dig(NAME), []);
  assert.deepEqual(await bind.dig(NAME, 'AAAA'), ['::1']);
  const stale = await n2.check(ctx('n2'));
  assert.equal(stale.state, 'failed');
  assert.match(stale.reason ?? '', /should point at 127\.0\.0\.12/);
});

test('deleteOnStop removes the record only while it still points here', LIMIT, async (t) => {
  const bind = await startBind(t);
  const n1 = dnsResource.create('dbname', params(bind, { deleteOnStop: true }));
  const n2 = dnsResource.create('dbname', params(bind, { deleteOnStop: true }));
  await n1.start(ctx('n1'));
  await n2.start(ctx('n2'));
  await n1.stop(ctx('n1')); // late stop of the old owner: must not remove n2's record
  assert.deepEqual(await bind.dig(NAME), ['127.0.0.12']);
  await n2.stop(ctx('n2'));
  assert.deepEqual(await bind.dig(NAME), []);
  assert.equal((await n2.check(ctx('n2'))).state, 'stopped');
});

test('a wrong secret or an unknown key fails the start with the server’s answer', LIMIT, async (t) => {
  const bind = await startBind(t);
  const dir = tempDir(t);
  const wrongSecret = bind.writeKeyFile(join(dir, 'wrong.key'), Buffer.alloc(32, 7).toString('base64'));
  const unknownKey = bind.writeKeyFile(join(dir, 'unknown.key'), bind.secret, 'someone-else');
  await assert.rejects(
    dnsResource.create('dbname', params(bind, { keyFile: wrongSecret })).start(ctx('n1')),
    /refused the update of db\.example\.test → 127\.0\.0\.11: NOTAUTH\/BADSIG \(the key’s secret differs/,
  );
  await assert.rejects(
    dnsResource.create('dbname', params(bind, { keyFile: unknownKey })).start(ctx('n1')),
    /NOTAUTH\/BADKEY \(the server does not know this key/,
  );
  await assert.rejects(
    dnsResource.create('dbname', params(bind, { name: 'db.other.test' })).start(ctx('n1')),
    /refused the update of db\.other\.test.*NOTAUTH \(the server is not authoritative/,
  );
  assert.deepEqual(await bind.dig(NAME), []);
  // The secret is in no error message.
  const err = await dnsResource
    .create('dbname', params(bind, { keyFile: wrongSecret }))
    .start(ctx('n1'))
    .catch((e: Error) => e);
  assert.ok(
    !JSON.stringify({ m: (err as Error).message, d: (err as { details?: unknown }).details }).includes(
      bind.secret,
    ),
  );
});

test(
  'a server that stops answering gives a warning in check, not a failover (unless onServerError: fail)',
  LIMIT,
  async (t) => {
    const bind = await startBind(t);
    const warn = dnsResource.create('dbname', params(bind, { callTimeout: '500ms' }));
    const fail = dnsResource.create('dbname', params(bind, { callTimeout: '500ms', onServerError: 'fail' }));
    await warn.start(ctx('n1'));
    await fail.start(ctx('n1'));
    await stopProcess(bind.pid());
    t.after(() => {
      try {
        process.kill(bind.pid(), 'SIGCONT');
      } catch {}
    });
    const started = Date.now();
    const w = await warn.check(ctx('n1'));
    assert.equal(w.state, 'running');
    assert.match(
      w.reason ?? '',
      /^warning: could not verify db\.example\.test: DNS server 127\.0\.0\.1:\d+ did not answer within 500ms/,
    );
    const f = await fail.check(ctx('n1'));
    assert.equal(f.state, 'failed');
    assert.ok(Date.now() - started < 8000, 'both checks bounded by callTimeout');
    await assert.rejects(
      dnsResource.create('dbname', params(bind, { callTimeout: '300ms' })).start(ctx('n2')),
      /did not answer within 300ms/,
    );
  },
);
