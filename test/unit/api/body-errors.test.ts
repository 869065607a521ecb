import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { type ConfigStore, registerConfigPush } from '../../../src/agent/config-store.js';
import { TokenAuth } from '../../../src/api/auth.js';
import type { ClusterOps } from '../../../src/api/ops.js';
import { buildApi, MAX_DISCARDED_BYTES } from '../../../src/api/server.js';
import { MAX_CONFIG_BYTES } from '../../../src/config/load.js';
import { type Logger, silentLogger } from '../../../src/log.js';

/** Bad request bodies over real HTTP: a clear 4xx with a code, never a 500 or a stack trace. */

const TOKEN = 't'.repeat(32);

async function api(t: import('node:test').TestContext): Promise<string> {
  const logged: unknown[] = [];
  const log = {
    error: (...a: unknown[]) => logged.push(a),
    warn() {},
    info() {},
    debug() {},
  } as unknown as Logger;
  const ops = {
    move: async () => {},
    setParams: async () => ({}),
  } as unknown as ClusterOps;
  const app = buildApi({ ops, auth: new TokenAuth({ readWrite: TOKEN }), log, version: 'test' });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return address;
}

const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

test('a request body over 1 MiB is answered 413 HALO_E_BODY_TOO_LARGE without a stack trace', async (t) => {
  const base = await api(t);
  const body = JSON.stringify({ to: 'x'.repeat(2 * 1024 * 1024) });
  const res = await fetch(`${base}/v1/groups/web/move`, { method: 'POST', headers, body });
  const text = await res.text();
  assert.equal(res.status, 413, text);
  const { error } = JSON.parse(text);
  assert.equal(error.code, 'HALO_E_BODY_TOO_LARGE');
  assert.match(error.message, /at most 1048576 bytes/);
  assert.doesNotMatch(text, /\bat .*\.js:\d+|stack/);
});

test('a body that is not JSON is answered 400 HALO_E_BAD_REQUEST without a stack trace', async (t) => {
  const base = await api(t);
  for (const [method, path] of [
    ['POST', '/v1/groups/web/move'],
    ['PATCH', '/v1/groups/web/resources/app/params'],
  ] as const) {
    const res = await fetch(`${base}${path}`, { method, headers, body: '{"to": ' });
    const text = await res.text();
    assert.equal(res.status, 400, `${method} ${path}: ${text}`);
    assert.equal(JSON.parse(text).error.code, 'HALO_E_BAD_REQUEST');
    assert.doesNotMatch(text, /\bat .*\.js:\d+|stack/);
  }
});

/** Sends the headers of a `declared`-byte body, then `send` bytes of it; collects the answer. */
function rawPost(base: string, declared: number, send: number) {
  const { hostname, port } = new URL(base);
  return new Promise<{ answer: string; closedEarly: boolean }>((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    let sent = 0;
    const chunk = Buffer.alloc(256 * 1024, 'x');
    socket.on('data', (b) => (answer += b));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ answer, closedEarly: sent < send }));
    socket.on('connect', () => {
      socket.write(
        `POST /v1/groups/web/move HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n\r\n`,
      );
      const pump = () => {
        while (sent < send && !socket.destroyed) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        if (!socket.destroyed) socket.end();
      };
      pump();
    });
    setTimeout(
      () => reject(new Error(`no close after ${sent} bytes; answer: ${answer.slice(0, 200)}`)),
      30_000,
    ).unref();
  });
}

test('a client still sending an oversized body gets the 413, not a reset connection', async (t) => {
  const base = await api(t);
  // Far more than the socket buffers hold: with the connection closed at once, the client's
  // writes would fail (EPIPE) and the answer be lost.
  const sent = await rawPost(base, 8 * 1024 * 1024, 8 * 1024 * 1024);
  assert.match(sent.answer, /^HTTP\/1\.1 413 /);
  assert.match(sent.answer, /HALO_E_BODY_TOO_LARGE/);
  assert.equal(sent.closedEarly, false, 'the whole body was read and thrown away');
  // Past the bound the server stops reading: the connection is cut, the answer already sent.
  const endless = await rawPost(base, 1024 * 1024 * 1024, 1024 * 1024 * 1024);
  assert.match(endless.answer, /^HTTP\/1\.1 413 /);
  assert.equal(endless.closedEarly, true, `cut off after at most ${MAX_DISCARDED_BYTES} bytes`);
});

test('PUT /v1/config takes a config as long as a config file may be, and a longer one gets its limit named', async (t) => {
  const pushed: number[] = [];
  const store = {
    store: async (yaml: string) => {
      pushed.push(yaml.length);
      return {
        node: 'n1',
        file: '/etc/halo/halo.yaml',
        runningEpoch: '1',
        storedEpoch: '2',
        changed: true,
        pending: true,
      };
    },
  } as unknown as ConfigStore;
  const ops = {} as ClusterOps;
  const app = buildApi({
    ops,
    auth: new TokenAuth({ readWrite: TOKEN }),
    log: silentLogger,
    version: 'test',
    extend: (a) => registerConfigPush(a, store, async () => ({})),
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const put = (yaml: string) =>
    fetch(`${base}/v1/config`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ yaml, epoch: '2', dryRun: true }),
    });
  // A 3 MiB file: was refused by a 512 KiB maxLength in the body schema.
  const ok = await put(`# ${'x'.repeat(3 * 1024 * 1024)}\n`);
  assert.equal(ok.status, 200, await ok.clone().text());
  assert.deepEqual(pushed, [3 * 1024 * 1024 + 3]);
  const long = await put('x'.repeat(MAX_CONFIG_BYTES + 1));
  assert.equal(long.status, 400);
  assert.match(
    ((await long.json()) as { error: { message: string } }).error.message,
    new RegExp(`body/yaml must NOT have more than ${MAX_CONFIG_BYTES} characters`),
  );
  assert.equal(pushed.length, 1);
});
