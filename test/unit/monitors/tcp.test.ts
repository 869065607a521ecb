import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { tcpMonitor } from '../../../src/engine/monitors/tcp/index.js';
import { tcpMonitorParams } from '../../../src/engine/monitors/tcp/params.js';
import { monitorContext } from './context.js';

async function listen(t: {
  after: (fn: () => Promise<void>) => void;
}): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { server, port: address.port };
}

function create(port: number) {
  return tcpMonitor.create('m1', tcpMonitorParams.parse({ host: '127.0.0.1', port }));
}

describe('tcp monitor', () => {
  it('passes when the port accepts a connection', async (t) => {
    const { port } = await listen(t);
    const result = await create(port).probe(monitorContext());
    assert.equal(result.ok, true);
    assert.match(
      result.output,
      new RegExp(`^connected to 127\\.0\\.0\\.1:${port} \\(127\\.0\\.0\\.1\\) in \\d+ ms$`),
    );
  });

  it('fails with the connect error when nothing listens', async (t) => {
    const { server, port } = await listen(t);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await create(port).probe(monitorContext());
    assert.deepEqual(result, { ok: false, output: `connect ECONNREFUSED 127.0.0.1:${port}` });
  });

  it('fails without trying when the signal is already aborted', async () => {
    const result = await create(1).probe(monitorContext({ signal: AbortSignal.abort(new Error('timeout')) }));
    assert.deepEqual(result, { ok: false, output: 'not tried: timeout' });
  });
});
