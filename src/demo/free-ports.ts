import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/**
 * Ports free for both TCP and UDP on `host` (agents and the witness talk over UDP, the API
 * and the services over TCP). Each port is released before it is used, so another program
 * could take it in between; on a demo machine that risk is small and a retry fixes it.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freeTcpPort(host);
    if (!ports.includes(port) && (await udpFree(port, host))) ports.push(port);
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
