import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * STAND-IN for a cloud load balancer (Azure internal LB, GCP ILB), for `halo demo` only.
 * It is not part of Halo: in a real deployment the cloud provides this. It behaves like one
 * in the ways the demo needs: one stable frontend port; a TCP health probe of every backend's
 * probe port every PROBE_INTERVAL_MS; new connections go to a backend whose probe answers
 * (Halo's lb-probe resource opens that port only on the node that owns the group); with no
 * healthy backend a new connection is dropped, as Azure LB does. Established flows are left
 * alone when a probe fails.
 */

export interface Backend {
  name: string;
  /** Port of the lb-probe on this backend. */
  probePort: number;
  /** Port of the service on this backend. */
  servicePort: number;
}

export interface LoadBalancerOptions {
  host: string;
  /** Frontend port; 0 picks a free one. */
  port: number;
  backends: Backend[];
  /** Told about backends turning healthy or unhealthy, for the demo's output. */
  onChange?: (healthy: string[]) => void;
  probeIntervalMs?: number;
}

const PROBE_INTERVAL_MS = 200;
const PROBE_TIMEOUT_MS = 500;

export class StandInLoadBalancer {
  private readonly opts: LoadBalancerOptions;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private healthy: string[] = [];
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly stopping = new AbortController();
  private next = 0;

  constructor(opts: LoadBalancerOptions) {
    this.opts = opts;
  }

  /** The frontend port (after start). */
  port = 0;

  healthyBackends(): string[] {
    return [...this.healthy];
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.forward(client));
    server.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.opts.host, port: this.opts.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    this.running = true;
    this.loop = this.probeLoop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    await this.loop;
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  private async probeLoop(): Promise<void> {
    while (this.running) {
      const results = await Promise.all(
        this.opts.backends.map(async (b) => ((await tcpProbe(b.probePort)) ? b.name : null)),
      );
      const healthy = results.filter((n): n is string => n !== null);
      if (this.running && healthy.join(',') !== this.healthy.join(',')) {
        this.healthy = healthy;
        this.opts.onChange?.(healthy);
      }
      try {
        await sleep(this.opts.probeIntervalMs ?? PROBE_INTERVAL_MS, undefined, {
          signal: this.stopping.signal,
        });
      } catch {
        return;
      }
    }
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private forward(client: Socket): void {
    this.track(client);
    client.on('error', () => client.destroy());
    const name = this.healthy[this.next++ % Math.max(1, this.healthy.length)];
    const backend = this.opts.backends.find((b) => b.name === name);
    if (!backend) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: backend.servicePort });
    this.track(upstream);
    upstream.on('error', () => {
      upstream.destroy();
      client.destroy();
    });
    // A gone client takes its upstream along; a finished upstream ends the client through
    // pipe(), which lets the last bytes of the response drain first.
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

function tcpProbe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
