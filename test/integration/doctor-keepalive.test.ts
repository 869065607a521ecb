import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { readTcpSockets, type TcpSocketEntry } from '../../src/doctor/proc-net-tcp.js';
import { HALO_CLI, startCluster } from '../support/cluster.js';

/**
 * Acceptance (issue #9): a TCP connection to the agent's API really has keepalive with the
 * configured idle — read back from the kernel (/proc/net/tcp timer column), on the agent's
 * accepted socket and on the CLI's own client socket. 97 s is neither the OS default
 * (7200 s) nor Node's/undici's (60 s), so only the config can have put it there.
 */

const IDLE_S = 97;

async function waitKeepalive(match: (e: TcpSocketEntry) => boolean, what: string): Promise<TcpSocketEntry> {
  let last: TcpSocketEntry | undefined;
  for (let i = 0; i < 200; i++) {
    last = readTcpSockets().find(match);
    if (last && last.timer === 2) return last;
    await sleep(50);
  }
  assert.fail(`${what}: no keepalive timer (last entry: ${JSON.stringify(last)})`);
}

function socketInodes(pid: number): Set<number> {
  const out = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(Number(m[1]));
    } catch {
      // Closed meanwhile.
    }
  }
  return out;
}

test('sockets to and from the agent API carry keepalive with cluster.keepalive.idle, as the kernel reports', async (t) => {
  const c = await startCluster(t, {
    nodes: ['n1', 'n2'],
    witness: false,
    groups: {
      web: { nodes: ['n1', 'n2'], resources: { r: { type: 'script', start: 'true', stop: 'true' } } },
    },
  });
  // The harness has no keepalive knob: set it before any agent reads the file.
  const doc = parse(readFileSync(c.configFile, 'utf8'));
  doc.cluster.keepalive = { idle: `${IDLE_S}s` };
  writeFileSync(c.configFile, stringify(doc));
  await c.startAgent('n1');
  const apiPort = c.ports['n1']!.api;

  // A plain client that sets no keepalive itself: whatever the server side has is the agent's doing.
  const client = connect(apiPort, '127.0.0.1');
  t.after(() => client.destroy());
  await once(client, 'connect');
  client.write('GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
  await once(client, 'data');
  const server = await waitKeepalive(
    (e) => e.localPort === apiPort && e.remotePort === client.localPort,
    'agent side of the API connection',
  );
  assert.ok(
    server.remainingS > IDLE_S - 30 && server.remainingS <= IDLE_S,
    `agent side: ${server.remainingS} s left of a ${IDLE_S} s idle`,
  );

  // The CLI's side: `halo events -f` holds a connection open; find it by the CLI's own fds.
  const env: NodeJS.ProcessEnv = { ...process.env, HALO_TOKEN: c.token('n1') };
  delete env['HALO_API'];
  const cli = spawn(process.execPath, [HALO_CLI, 'events', '-f', '-c', c.configFile], {
    cwd: c.dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let cliOut = '';
  cli.stdout.on('data', (b) => (cliOut += b));
  cli.stderr.on('data', (b) => (cliOut += b));
  t.after(() => {
    if (cli.exitCode === null) cli.kill('SIGKILL');
  });
  await c.waitFor('the CLI follows events', () => cliOut.length > 0);
  assert.equal(cli.exitCode, null, `the CLI exited: ${cliOut}`);
  const entry = await waitKeepalive(
    (e) => {
      if (e.remotePort !== apiPort) return false;
      if (cli.exitCode !== null) assert.fail(`the CLI exited with ${cli.exitCode}: ${cliOut}`);
      return socketInodes(cli.pid!).has(e.inode);
    },
    `CLI side (output so far: ${cliOut.slice(0, 200)})`,
  );
  assert.ok(
    entry.remainingS > IDLE_S - 30 && entry.remainingS <= IDLE_S,
    `CLI side: ${entry.remainingS} s left of a ${IDLE_S} s idle`,
  );
});
