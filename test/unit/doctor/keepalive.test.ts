import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseProcNetTcp, readTcpSockets } from '../../../src/doctor/proc-net-tcp.js';
import {
  applyKeepalive,
  etcdGrpcKeepaliveOptions,
  installClientKeepalive,
  keepaliveHttpAgents,
  keepaliveIdleSeconds,
  keepaliveServer,
} from '../../../src/net/keepalive.js';

/** The kernel's keepalive timer of the socket from `localPort` to `remotePort`, if armed. */
async function keepaliveTimer(localPort: number, remotePort: number): Promise<number | undefined> {
  // The timer is armed when setsockopt runs on the connected socket; give the loop a turn.
  for (let i = 0; i < 40; i++) {
    const e = readTcpSockets().find((s) => s.localPort === localPort && s.remotePort === remotePort);
    if (e && e.timer === 2) return e.remainingS;
    await sleep(25);
  }
  return undefined;
}

test('the idle time is passed to the kernel in whole seconds, at least one', () => {
  assert.equal(keepaliveIdleSeconds(230_000), 230);
  assert.equal(keepaliveIdleSeconds(230_900), 230);
  assert.equal(keepaliveIdleSeconds(200), 1);
});

test('a /proc/net/tcp line gives ports, the keepalive timer and its remaining seconds', () => {
  const text = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1CE8 0100007F:A3B2 01 00000000:00000000 02:000059D8 00000000     0        0 4242 1 0000000000000000 20 4 30 10 -1',
  ].join('\n');
  assert.deepEqual(parseProcNetTcp(text), [
    { localPort: 0x1ce8, remotePort: 0xa3b2, state: '01', timer: 2, remainingS: 230, inode: 4242 },
  ]);
});

test('an accepted socket of a keepalive server has a kernel keepalive timer of the configured idle', async (t) => {
  const server = createServer((s) => s.on('error', () => undefined));
  keepaliveServer(server, { idleMs: 97_000 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const client = connect(port, '127.0.0.1');
  t.after(() => {
    client.destroy();
    server.close();
  });
  await once(client, 'connect');
  const remaining = await keepaliveTimer(port, client.localPort!);
  assert.ok(remaining !== undefined, 'the server side has a keepalive timer');
  assert.ok(remaining > 60 && remaining <= 97, `remaining ${remaining} s of a 97 s idle`);
  // The client side did not ask for keepalive: no timer there.
  const clientSide = readTcpSockets().find((s) => s.localPort === client.localPort && s.remotePort === port);
  assert.equal(clientSide?.timer, 0);
});

test('client sockets from net.connect and fetch get keepalive once installed', async (t) => {
  const accepted: Socket[] = [];
  const server = createServer((s) => {
    accepted.push(s);
    s.on('error', () => undefined);
    s.on('data', () => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  installClientKeepalive({ idleMs: 83_000 });
  const plain = connect(port, '127.0.0.1');
  t.after(() => {
    plain.destroy();
    for (const s of accepted) s.destroy();
    server.close();
  });
  await once(plain, 'connect');
  const plainTimer = await keepaliveTimer(plain.localPort!, port);
  assert.ok(plainTimer !== undefined && plainTimer > 50 && plainTimer <= 83, `net.connect: ${plainTimer}`);

  const res = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(await res.text(), 'ok');
  // The fetch connection stays open (keep-alive): its timer is ours, not undici's 60 s.
  const fetched = accepted.at(-1)!;
  const fetchTimer = await keepaliveTimer(fetched.remotePort!, port);
  assert.ok(fetchTimer !== undefined && fetchTimer > 60 && fetchTimer <= 83, `fetch: ${fetchTimer}`);
});

test('applyKeepalive before connect is applied once the socket connects', async (t) => {
  const server = createServer((s) => s.on('error', () => undefined));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const client = connect({ port, host: '127.0.0.1' });
  applyKeepalive(client, { idleMs: 71_000 });
  t.after(() => {
    client.destroy();
    server.close();
  });
  await once(client, 'connect');
  const remaining = await keepaliveTimer(client.localPort!, port);
  assert.ok(remaining !== undefined && remaining > 40 && remaining <= 71, `remaining ${remaining}`);
});

test('the AWS SDK agents and the etcd options carry the configured idle', () => {
  const { httpAgent, httpsAgent } = keepaliveHttpAgents({ idleMs: 230_000 });
  assert.equal((httpsAgent as unknown as { keepAlive: boolean }).keepAlive, true);
  assert.equal((httpsAgent as unknown as { keepAliveMsecs: number }).keepAliveMsecs, 230_000);
  assert.equal((httpAgent as unknown as { keepAliveMsecs: number }).keepAliveMsecs, 230_000);
  httpAgent.destroy();
  httpsAgent.destroy();
  assert.deepEqual(etcdGrpcKeepaliveOptions({ idleMs: 230_000, intervalMs: 1000, count: 5 }), {
    'grpc.keepalive_time_ms': 230_000,
    'grpc.keepalive_timeout_ms': 5000,
    'grpc.keepalive_permit_without_calls': 1,
  });
});
