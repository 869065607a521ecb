import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { TokenAuth } from '../../../src/api/auth.js';
import type { ClusterOps } from '../../../src/api/ops.js';
import { buildApi } from '../../../src/api/server.js';
import { silentLogger } from '../../../src/log.js';
import { registerWebUi } from '../../../src/web/web-ui.js';
import { tempDir } from '../../support/temp-dir.js';

/** The web UI plugin through the real API server (fastify inject, no sockets, no browser). */

const RW = 'rw-token';
const RO = 'ro-token';

function api(t: TestContext, dir: string) {
  const app = buildApi({
    ops: {} as ClusterOps,
    auth: new TokenAuth({ readWrite: RW, readOnly: RO }),
    log: silentLogger,
    version: '0.0.0-test',
    extend: (a) => registerWebUi(a, { dir }),
  });
  t.after(() => app.close());
  return app;
}

function builtUi(t: TestContext): string {
  const dir = tempDir(t, 'halo-web-');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Halo</title>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

test('the page is served at / without a token, with a strict content security policy', async (t) => {
  const app = api(t, builtUi(t));
  const res = await app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^text\/html/);
  assert.match(res.body, /<title>Halo<\/title>/);
  const csp = res.headers['content-security-policy'] as string;
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /connect-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  assert.equal(res.headers['cache-control'], 'no-cache');
});

test('hashed assets are served under /ui/ and may be cached for good; an unchanged file answers 304', async (t) => {
  const app = api(t, builtUi(t));
  const res = await app.inject({ method: 'GET', url: '/ui/assets/index-abc123.js' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^text\/javascript/);
  assert.match(res.headers['cache-control'] as string, /immutable/);
  const again = await app.inject({
    method: 'GET',
    url: '/ui/assets/index-abc123.js',
    headers: { 'if-none-match': res.headers['etag'] as string },
  });
  assert.equal(again.statusCode, 304);
  const icon = await app.inject({ method: 'GET', url: '/favicon.ico' });
  assert.equal(icon.statusCode, 200);
  assert.equal(icon.headers['content-type'], 'image/svg+xml');
});

test('only files of the build are served: traversal and unknown paths are refused', async (t) => {
  const app = api(t, builtUi(t));
  for (const url of [
    '/ui/../package.json',
    '/ui/%2e%2e/%2e%2e/etc/passwd',
    '/ui/nope.js',
    '/ui/index.html',
  ]) {
    const res = await app.inject({ method: 'GET', url });
    // A normalized `..` leaves /ui/ and meets the token check (401); the rest are not in the build.
    assert.ok([401, 404].includes(res.statusCode), `${url}: HTTP ${res.statusCode}`);
  }
});

test('whoami tells the page what the token may do, and refuses a wrong token', async (t) => {
  const app = api(t, builtUi(t));
  const rw = await app.inject({
    method: 'GET',
    url: '/v1/whoami',
    headers: { authorization: `Bearer ${RW}` },
  });
  assert.deepEqual(rw.json(), { access: 'read-write', name: 'admin' });
  const ro = await app.inject({
    method: 'GET',
    url: '/v1/whoami',
    headers: { authorization: `Bearer ${RO}` },
  });
  assert.deepEqual(ro.json(), { access: 'read-only', name: 'read-only' });
  const wrong = await app.inject({
    method: 'GET',
    url: '/v1/whoami',
    headers: { authorization: 'Bearer x' },
  });
  assert.equal(wrong.statusCode, 401);
  assert.equal(wrong.json().error.code, 'HALO_E_UNAUTHORIZED');
});

test('an agent without a built UI says how to build it instead of failing', async (t) => {
  const app = api(t, join(tempDir(t), 'missing'));
  const res = await app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 503);
  assert.match(res.body, /npm run build:web/);
});
