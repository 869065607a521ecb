import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { LabError, run } from './exec.js';
import type { Lab } from './lab.js';
import { cableToSwitch, createNamespace, removeNamespace } from './netns.js';
import { CLIENT, SUBNET_PREFIX, SWITCH } from './topology.js';

/**
 * Cloud stand-ins inside a lab (issue #7 acceptance 1 and 2 with real per-node addresses):
 * - `LabMoto`: moto_server (the EC2 API emulator) in its own namespace cabled to the lab's
 *   bridge, so agents reach it at a lab address and a crashed node loses it like a real one.
 *   The test process (root namespace, no route into the lab) reaches it through a Unix socket
 *   forwarder running in moto's namespace, bridged to an ephemeral 127.0.0.1 port, so the
 *   AWS SDK in the test works unchanged and the lab stays unroutable from the host.
 * - `startLabHaproxy`: HAProxy in the client namespace health-checking the same probe port on
 *   every node's own address, the way a cloud load balancer probes its backends.
 * Everything runs in namespaces carrying the lab's prefix, so `Lab.cleanup()` (and its exit
 * handlers) remove it even when `stop()` never ran.
 */

export const MOTO_BIN = process.env['HALO_MOTO_BIN'] ?? 'moto_server';
export const HAPROXY_BIN = process.env['HALO_HAPROXY_BIN'] ?? '/usr/sbin/haproxy';
const MOTO_HOST = 221;
const MOTO_PORT = 5000;

/** Runs inside moto's namespace: Unix socket → moto's TCP port. */
const FORWARDER = `const net = require('node:net');
const [sock, host, port] = process.argv.slice(2);
net.createServer((c) => {
  const u = net.connect(Number(port), host);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  c.pipe(u).pipe(c);
}).listen(sock, () => process.stdout.write('listening\\n'));
`;

export class LabMoto {
  readonly ns: string;
  readonly address = `${SUBNET_PREFIX}.${MOTO_HOST}`;
  /** What agents in the lab use as `endpoint`. */
  readonly endpoint = `http://${SUBNET_PREFIX}.${MOTO_HOST}:${MOTO_PORT}`;
  /** The same API for the test process, on 127.0.0.1 (set by start()). */
  hostUrl = '';
  private client_: EC2Client | null = null;
  private moto: ChildProcess | null = null;
  private forwarder: ChildProcess | null = null;
  private bridge: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly lab: Lab) {
    this.ns = `${lab.prefix}aws`;
  }

  /** An EC2 client for the test process (fake credentials; a wedged emulator fails fast). */
  get client(): EC2Client {
    if (!this.client_) throw new LabError('lab moto is not started');
    return this.client_;
  }

  async start(region = 'us-east-1'): Promise<void> {
    const sw = this.lab.ns(SWITCH);
    await createNamespace(this.ns);
    await run(['ip', 'netns', 'exec', this.ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    await cableToSwitch(sw, this.ns, 'p-aws', this.address);

    this.moto = this.spawnHere('moto', [MOTO_BIN, '-H', this.address, '-p', String(MOTO_PORT)]);
    const sock = join(this.lab.dir, 'moto.sock');
    const script = join(this.lab.dir, 'moto-forwarder.cjs');
    writeFileSync(script, FORWARDER);
    this.forwarder = this.spawnHere('moto-forwarder', [
      process.execPath,
      script,
      sock,
      this.address,
      String(MOTO_PORT),
    ]);
    await this.lab.waitFor(
      'the moto forwarder',
      () => {
        if (this.forwarder?.exitCode !== null)
          throw new LabError(`moto forwarder exited: ${this.lab.logs('moto-forwarder')}`);
        return this.lab.logs('moto-forwarder').includes('listening');
      },
      10_000,
    );
    await this.listenBridge(sock);
    this.client_ = new EC2Client({
      endpoint: this.hostUrl,
      region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestHandler: { connectionTimeout: 5000, requestTimeout: 15_000 },
    });
    await this.lab.waitFor(
      'moto_server answering',
      async () => {
        if (this.moto?.exitCode !== null) throw new LabError(`moto_server exited: ${this.lab.logs('moto')}`);
        const res = await fetch(`${this.hostUrl}/`, { signal: AbortSignal.timeout(2000) });
        await res.text();
        return res.ok;
      },
      30_000,
    );
  }

  /** Own process group (the pyenv shim and python go together); output to `<lab dir>/<log>.log`. */
  private spawnHere(log: string, argv: string[]): ChildProcess {
    const fd = openSync(this.lab.logFile(log), 'a');
    try {
      return spawn('ip', ['netns', 'exec', this.ns, ...argv], { stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
  }

  private async listenBridge(sock: string): Promise<void> {
    const server = createServer((c) => {
      const u = connect(sock);
      for (const s of [c, u]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      c.pipe(u).pipe(c);
      c.on('close', () => u.destroy());
      u.on('close', () => c.destroy());
    });
    this.bridge = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.hostUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.client_?.destroy();
    this.client_ = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.bridge;
    this.bridge = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const p of [this.forwarder, this.moto]) await killGroup(p);
    this.forwarder = null;
    this.moto = null;
    await removeNamespace(this.ns);
  }
}

async function killGroup(p: ChildProcess | null): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null || p.pid === undefined) return;
  const exited = new Promise((r) => p.once('exit', r));
  try {
    process.kill(-p.pid, 'SIGKILL');
  } catch {
    p.kill('SIGKILL');
  }
  await exited;
}

export interface LabHaproxyOptions {
  /** Nodes to balance over: traffic to `<node address>:servicePort`, checks on `probePort`. */
  nodes: string[];
  servicePort: number;
  probePort: number;
  /** Frontend port on the client's address (default 9000). */
  frontPort?: number;
  /** Health check interval (default 100ms); fall 1 rise 1 so one probe decides. */
  inter?: string;
}

export interface LabHaproxy {
  host: string;
  port: number;
  child: ChildProcess;
}

/** HAProxy config in TCP mode (the lab's responder speaks raw TCP: it writes its name and closes). */
export function labHaproxyConfig(lab: Lab, o: LabHaproxyOptions): string {
  const inter = o.inter ?? '100ms';
  return `global
  maxconn 512
defaults
  mode tcp
  timeout connect 300ms
  timeout client 5s
  timeout server 5s
  timeout check 300ms
  retries 1
  option redispatch
frontend fe
  bind ${lab.address(CLIENT)}:${o.frontPort ?? 9000}
  default_backend be
backend be
${o.nodes
  .map(
    (n) =>
      `  server ${n} ${lab.address(n)}:${o.servicePort} check port ${o.probePort} inter ${inter} fall 1 rise 1`,
  )
  .join('\n')}
`;
}

/**
 * Starts HAProxy in the client namespace as a lab service (key `haproxy`: `lab.signal` and the
 * teardown reach it); resolves once its frontend accepts connections.
 */
export async function startLabHaproxy(lab: Lab, o: LabHaproxyOptions): Promise<LabHaproxy> {
  const file = join(lab.dir, 'haproxy.cfg');
  writeFileSync(file, labHaproxyConfig(lab, o));
  const child = lab.spawnService(CLIENT, 'haproxy', [HAPROXY_BIN, '-db', '-f', file]);
  const host = lab.address(CLIENT);
  const port = o.frontPort ?? 9000;
  await lab.waitFor(
    'haproxy listening',
    async () => {
      if (child.exitCode !== null) throw new LabError(`haproxy exited:\n${lab.logs('haproxy')}`);
      return tcpConnects(lab, CLIENT, host, port);
    },
    15_000,
  );
  return { host, port, child };
}

/** Whether a TCP connection from `from`'s namespace to host:port is accepted (bash /dev/tcp). */
export async function tcpConnects(lab: Lab, from: string, host: string, port: number): Promise<boolean> {
  const r = await run(
    ['ip', 'netns', 'exec', lab.ns(from), 'timeout', '2', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`],
    { allowFail: true },
  );
  return r.code === 0;
}
