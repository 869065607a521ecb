import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { clearImdsCache, instanceEni } from '../../../src/cloud/aws/imds.js';

/** A fake instance metadata service that insists on IMDSv2 session tokens. */
async function fakeImds(t: { after: (fn: () => unknown) => void }, opts: { hang?: boolean } = {}) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (opts.hang) return;
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return void res.writeHead(400).end();
      return void res.end('tok-123');
    }
    if (req.headers['x-aws-ec2-metadata-token'] !== 'tok-123') return void res.writeHead(401).end();
    if (req.url === '/latest/meta-data/mac') return void res.end('0a:1b:2c:3d:4e:5f');
    if (req.url === '/latest/meta-data/network/interfaces/macs/0a%3A1b%3A2c%3A3d%3A4e%3A5f/interface-id')
      return void res.end('eni-0abc123');
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
    clearImdsCache();
  });
  return { endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

describe('instanceEni (IMDSv2)', () => {
  it('gets a session token first, then the primary MAC and its interface id', async (t) => {
    const imds = await fakeImds(t);
    const signal = new AbortController().signal;
    assert.equal(await instanceEni({ endpoint: imds.endpoint, signal, timeoutMs: 2000 }), 'eni-0abc123');
    assert.equal(imds.seen[0], 'PUT /latest/api/token');
    await instanceEni({ endpoint: imds.endpoint, signal, timeoutMs: 2000 });
    assert.equal(imds.seen.length, 3, 'the answer is cached');
  });

  it('gives up within its time limit and says how to avoid the lookup', async (t) => {
    const imds = await fakeImds(t, { hang: true });
    await assert.rejects(
      instanceEni({ endpoint: imds.endpoint, signal: new AbortController().signal, timeoutMs: 200 }),
      /no answer within 200ms\); set "eni" for every node/,
    );
  });
});
