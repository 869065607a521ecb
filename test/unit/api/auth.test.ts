import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearer, peerToken, TokenAuth } from '../../../src/api/auth.js';

const RW = 'read-write-token-0123456789abcdef';
const RO = 'read-only-token-fedcba9876543210';

test('the read-write and read-only tokens grant their access', () => {
  const auth = new TokenAuth({ readWrite: RW, readOnly: RO });
  assert.equal(auth.check(RW), 'read-write');
  assert.equal(auth.check(RO), 'read-only');
});

test('without a read-only token configured only the read-write token is valid', () => {
  const auth = new TokenAuth({ readWrite: RW });
  assert.equal(auth.check(RW), 'read-write');
  assert.equal(auth.check(RO), undefined);
});

test('missing, empty, wrong, truncated and extended tokens are rejected without throwing', () => {
  const auth = new TokenAuth({ readWrite: RW, readOnly: RO });
  // timingSafeEqual throws on length mismatch: hashing first keeps every comparison the same
  // length, so tokens of any length go down the same constant-time path.
  for (const t of [undefined, '', 'x', RW.slice(0, -1), `${RW}x`, RW.toUpperCase(), 'a'.repeat(10_000)])
    assert.equal(auth.check(t), undefined, `token ${String(t).slice(0, 20)}`);
});

test('surrounding whitespace from a token file is ignored', () => {
  const auth = new TokenAuth({ readWrite: `${RW}\n` });
  assert.equal(auth.check(RW), 'read-write');
  assert.equal(auth.check(` ${RW} `), 'read-write');
});

test('the peer token is derived from the cluster key, one-way and stable', () => {
  const key = Buffer.from('cluster-key-cluster-key-cluster-key');
  const token = peerToken(key);
  assert.equal(token, peerToken(Buffer.from(key)));
  assert.notEqual(token, peerToken(Buffer.from('another-cluster-key-another-key')));
  assert.ok(!token.includes(key.toString()));
  assert.match(token, /^[0-9a-f]{64}$/);
  const auth = new TokenAuth({ readWrite: RW, peer: token });
  assert.equal(auth.check(token), 'peer');
  assert.equal(auth.check(key.toString()), undefined, 'the key itself is not a token');
});

test('bearer() takes the token from an Authorization header', () => {
  assert.equal(bearer(`Bearer ${RW}`), RW);
  assert.equal(bearer(`bearer   ${RW}  `), RW);
  assert.equal(bearer(`Basic ${RW}`), undefined);
  assert.equal(bearer('Bearer'), undefined);
  assert.equal(bearer('Bearer a b'), undefined);
  assert.equal(bearer(undefined), undefined);
});
