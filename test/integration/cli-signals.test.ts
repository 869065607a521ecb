import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { HALO_CLI } from '../support/cluster.js';

/**
 * Ctrl-C as a user meets it on a command that does not stop in order (the demo's and the
 * agent's orderly stop are in demo.test.ts and the lab): one Ctrl-C ends it.
 */
test('one Ctrl-C ends `halo status` waiting on an agent that never answers (exit 130)', async (t) => {
  // An "agent" on loopback that accepts the connection and never answers.
  const held: Socket[] = [];
  const server = createServer((s) => held.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of held) s.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, 'connection');
  const child = spawn(process.execPath, [HALO_CLI, 'status', '--api', `http://127.0.0.1:${port}`], {
    env: { PATH: process.env['PATH'] ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b) => (output += b));
  child.stderr.on('data', (b) => (output += b));
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  t.after(() => child.kill('SIGKILL'));
  await accepted;
  child.kill('SIGINT');
  // Its request would give up after 30 s with exit 1; a Ctrl-C that only raised a flag
  // nobody reads used to leave it waiting that long.
  assert.equal(await closed, 130, output);
});
