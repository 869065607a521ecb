import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/**
 * Ports handed out by this process so far. The kernel may give the same ephemeral port to
 * two probes in a row once the first was released, and a caller asking twice would then
 * start two listeners on one port (seen: an etcd cluster whose members got the same peer URL).
 */
const handedOut = new Set<number>();

/**
 * Ports free for both TCP and UDP on `host` (agents and the witness talk over UDP, the API
 * and the services over TCP), never one this process handed out before. Each port is
 * released before it is used, so another program could take it in between; on a demo or
 * test machine that risk is small and a retry fixes it.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freeTcpPort(host);
    if (handedOut.has(port) || !(await udpFree(port, host))) continue;
    handedOut.add(port);
    ports.push(port);
  }
  return ports;
}

function freeTcpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}
