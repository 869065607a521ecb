import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { httpMonitor } from '../../../src/engine/monitors/http/index.js';
import { httpMonitorParams } from '../../../src/engine/monitors/http/params.js';
import { needPeer } from '../../support/requirements.js';
import { monitorContext } from './context.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type After = { after: (fn: () => Promise<void> | void) => void };

async function serve(t: After, server: Server, handler: Handler): Promise<number> {
  server.on('request', handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

function create(input: Record<string, unknown>) {
  return httpMonitor.create('m1', httpMonitorParams.parse(input));
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('http monitor', () => {
  it('passes on an expected status', async (t) => {
    const port = await serve(t, createServer(), (_req, res) => res.end('ok'));
    const result = await create({ url: `http://127.0.0.1:${port}/health` }).probe(monitorContext());
    assert.equal(result.ok, true);
    assert.match(result.output, /^HTTP 200 OK in \d+ ms$/);
  });

  it('fails on another status and shows the start of the body', async (t) => {
    const port = await serve(t, createServer(), (_req, res) => {
      res.statusCode = 503;
      res.end('database unreachable\n');
    });
    const result = await create({ url: `http://127.0.0.1:${port}/` }).probe(monitorContext());
    assert.equal(result.ok, false);
    assert.match(
      result.output,
      /^HTTP 503 Service Unavailable in \d+ ms, expected 200: database unreachable$/,
    );
  });

  it('does not follow redirects', async (t) => {
    const port = await serve(t, createServer(), (_req, res) => {
      res.writeHead(302, { location: '/login' }).end();
    });
    const failing = await create({ url: `http://127.0.0.1:${port}/` }).probe(monitorContext());
    assert.equal(failing.ok, false);
    assert.match(failing.output, /HTTP 302/);
    const passing = await create({ url: `http://127.0.0.1:${port}/`, expectStatus: [302] }).probe(
      monitorContext(),
    );
    assert.equal(passing.ok, true);
  });

  it('checks that the body contains the given text', async (t) => {
    const port = await serve(t, createServer(), (_req, res) => res.end('{"status":"degraded"}'));
    const url = `http://127.0.0.1:${port}/`;
    const failing = await create({ url, contains: '"status":"up"' }).probe(monitorContext());
    assert.equal(failing.ok, false);
    assert.match(failing.output, /body does not contain "\\"status\\":\\"up\\"": \{"status":"degraded"\}$/);
    const passing = await create({ url, contains: 'degraded' }).probe(monitorContext());
    assert.equal(passing.ok, true);
    assert.match(passing.output, /body contains "degraded"$/);
  });

  it('fails with the connect error when nothing listens', async (t) => {
    const server = createServer();
    const port = await serve(t, server, () => {});
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await create({ url: `http://127.0.0.1:${port}/` }).probe(monitorContext());
    assert.deepEqual(result, { ok: false, output: `connect ECONNREFUSED 127.0.0.1:${port}` });
  });

  it('gives up when the engine aborts a request that gets no answer', async (t) => {
    const controller = new AbortController();
    const port = await serve(t, createServer(), () => controller.abort(new Error('timeout')));
    const result = await create({ url: `http://127.0.0.1:${port}/` }).probe(
      monitorContext({ signal: controller.signal }),
    );
    assert.equal(result.ok, false);
    assert.match(result.output, /^no response after \d+ ms \(timeout\)$/);
  });

  it('accepts a self-signed certificate only when insecure', async (t) => {
    if (!needPeer(t, 'openssl (Debian package openssl)', hasOpenssl())) return;
    const dir = mkdtempSync(join(tmpdir(), 'halo-http-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
      ].concat(['-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]),
      { stdio: 'ignore' },
    );
    const server = createHttpsServer({
      key: readFileSync(join(dir, 'key.pem')),
      cert: readFileSync(join(dir, 'cert.pem')),
    });
    const port = await serve(t, server as unknown as Server, (_req, res) => res.end('secure ok'));
    const url = `https://127.0.0.1:${port}/`;
    const strict = await create({ url }).probe(monitorContext());
    assert.equal(strict.ok, false);
    assert.match(strict.output, /certificate/i);
    const insecure = await create({ url, insecure: true, contains: 'secure ok' }).probe(monitorContext());
    assert.equal(insecure.ok, true, insecure.output);
    assert.match(insecure.output, /^HTTP 200 OK in \d+ ms, body contains "secure ok"$/);
  });
});
