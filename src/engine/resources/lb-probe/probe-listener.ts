import { createServer as createHttpServer } from 'node:http';
import { connect, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { HaloError } from '../../../errors.js';

/**
 * The socket side of an `lb-probe`: a listener on the probe port that a cloud load balancer
 * connects to every few seconds from several probe sources at once (Azure ILB, GCP ILB).
 * - `tcp`: the probe is healthy when the handshake completes; we accept and close at once.
 * - `http`: 200 `active` while healthy, 503 otherwise (Azure's HTTP probe wants 200).
 * Probes never keep a connection, so every socket is short-lived and bounded by a timeout.
 */

export type ProbeMode = 'tcp' | 'http';

export interface ProbeListenerOptions {
  host: string;
  port: number;
  mode: ProbeMode;
  /** Asked on every HTTP probe. */
  healthy: () => boolean;
}

/** Load balancers probe from several sources at once; the kernel default (511) is tight for bursts. */
const BACKLOG = 2048;
/** A probe that neither sends nor closes is dropped after this long (slowloris guard). */
const SOCKET_TIMEOUT_MS = 5000;

export class ProbeListener {
  private readonly opts: ProbeListenerOptions;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(opts: ProbeListenerOptions) {
    this.opts = opts;
  }

  get listening(): boolean {
    return this.server?.listening === true;
  }

  /** Idempotent. Fails with HALO_E_PROBE_PORT_UNAVAILABLE when the port cannot be bound. */
  async open(): Promise<void> {
    if (this.server) return;
    const server = this.opts.mode === 'http' ? this.httpServer() : this.tcpServer();
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.setTimeout(SOCKET_TIMEOUT_MS, () => socket.destroy());
      socket.on('error', () => {});
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.opts.host, port: this.opts.port, backlog: BACKLOG }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.server = null;
      const e = err as NodeJS.ErrnoException;
      const hint =
        e.code === 'EADDRINUSE'
          ? 'another program (or another group) uses this port'
          : e.code === 'EACCES'
            ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE'
            : e.code === 'EADDRNOTAVAIL'
              ? 'the host address is not on this node'
              : e.message;
      throw new HaloError(
        'HALO_E_PROBE_PORT_UNAVAILABLE',
        `cannot listen on probe port ${this.opts.host}:${this.opts.port}: ${hint}`,
        { host: this.opts.host, port: this.opts.port, errno: e.code },
      );
    }
    // Errors after listening (e.g. EMFILE on accept) must not crash the agent.
    server.on('error', () => {});
  }

  /** Idempotent: stops listening and drops every open probe connection. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  private tcpServer(): Server {
    // Accept-and-close: the completed handshake is the whole answer (Azure "TCP probe").
    return createTcpServer((socket) => socket.end());
  }

  private httpServer(): Server {
    const server = createHttpServer((_req, res) => {
      const ok = this.opts.healthy();
      // The body says no more than the status: probes may come from anywhere in the network.
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain', connection: 'close' });
      res.end(ok ? 'active\n' : 'unhealthy\n');
    });
    server.headersTimeout = SOCKET_TIMEOUT_MS;
    server.requestTimeout = SOCKET_TIMEOUT_MS;
    server.keepAliveTimeout = 0;
    return server;
  }
}

/** True when a TCP connection to host:port completes within timeoutMs (wildcard hosts → loopback). */
export function portAnswers(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const target = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const socket = connect({ host: target, port });
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(ok);
    };
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
