import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LabError, run } from './exec.js';

/**
 * A userspace UDP relay: per-datagram delay (fixed + jitter), loss, duplication and
 * reordering on chosen paths, for kernels without the netem qdisc.
 *
 * Inside one member's namespace, an nftables `nat output` rule redirects what that member's
 * Halo process sends from its own port to a peer (`udp sport OWN ip daddr PEER udp dport
 * PORT`) to 127.0.0.1:<a port of the relay's, one per route>; the relay (this file run as a
 * program in the same namespace) sends each datagram on to PEER:PORT from an ephemeral
 * port, which the rule does not match, after the configured delay. The receiving agent
 * still sees the sender's address (only the source port changes). That is enough: the
 * transport authenticates a frame by its HMAC and the header's `from` and answers to the
 * peer's configured address, never to the datagram's source (udp-transport.ts `receive`
 * and `flush`); duplicates and reordering meet its replay guard, as they would on a real
 * network.
 *
 * Conntrack: NAT applies only to a connection's first packet. The rules therefore go in
 * before the member's Halo process sends anything (the lab installs relays right after it
 * builds the network), and incoming peer datagrams are `notrack`ed, so an entry created by
 * a peer's datagram can never make our outgoing flow its (un-NATed) reply direction.
 *
 * The relay process dies with its namespace (the lab's teardown and the sweep after a
 * killed run remove namespaces with everything in them) and on stdin EOF.
 */

export interface RelayRoute {
  /** Peer address and UDP port the redirected datagrams go to. */
  host: string;
  port: number;
}

export interface RelaySettings {
  /** Fixed delay per datagram, ms. */
  delayMs: number;
  /** Extra uniform random delay in [0, jitterMs), ms. */
  jitterMs: number;
  /** Fraction [0, 1] of datagrams dropped. */
  loss: number;
  /** Fraction [0, 1] of datagrams sent twice (the copy 1–10 ms later). */
  duplicate: number;
  /** Fraction [0, 1] of datagrams held back `reorderMs` longer, so later ones overtake them. */
  reorder: number;
  reorderMs: number;
}

export interface RelayStats {
  received: number;
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

export const PASS_THROUGH: RelaySettings = {
  delayMs: 0,
  jitterMs: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderMs: 20,
};

const TABLE = 'halo_relay';
const FIRST_PORT = 17_100;
const SELF = fileURLToPath(import.meta.url);

/** The relay as seen from the test process: its nftables rules and the program in the namespace. */
export class UdpRelay {
  private child: ChildProcess | null = null;
  private readonly waiting: Array<(line: string) => void> = [];

  constructor(
    private readonly ns: string,
    /** The member's own Halo port (the source port of everything it sends). */
    private readonly ownPort: number,
    private readonly routes: readonly RelayRoute[],
    private readonly onSpawn: (child: ChildProcess) => void = () => {},
  ) {}

  /** Starts the relay program, then installs the rules (so nothing is redirected to a closed port). */
  async start(settings: RelaySettings = PASS_THROUGH): Promise<void> {
    const child = spawn(
      'ip',
      ['netns', 'exec', this.ns, process.execPath, SELF, JSON.stringify({ routes: this.routes, settings })],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    this.child = child;
    this.onSpawn(child);
    createInterface({ input: child.stdout! }).on('line', (line) => this.waiting.shift()?.(line));
    const ready = await this.nextLine(10_000);
    if (ready !== 'ready') throw new LabError(`udp relay in ${this.ns} did not start: ${ready}`);
    const redirects = this.routes.map(
      (r, i) =>
        `    ip daddr ${r.host} udp sport ${this.ownPort} udp dport ${r.port} redirect to :${FIRST_PORT + i}`,
    );
    const peerPorts = [...new Set(this.routes.map((r) => r.port)), this.ownPort].join(', ');
    await run(['ip', 'netns', 'exec', this.ns, 'nft', '-f', '-'], {
      input: `table ip ${TABLE} {
  chain untracked {
    type filter hook prerouting priority -300; policy accept;
    iifname != "lo" udp dport { ${peerPorts} } notrack
  }
  chain to_relay {
    type nat hook output priority -100; policy accept;
${redirects.join('\n')}
  }
}
`,
    });
  }

  /** Changes delay, loss, duplication or reordering from the next datagram on. */
  async set(settings: Partial<RelaySettings>): Promise<void> {
    this.send({ set: settings });
    const ack = await this.nextLine(5000);
    if (ack !== 'ok') throw new LabError(`udp relay in ${this.ns}: ${ack}`);
  }

  async stats(): Promise<RelayStats> {
    this.send({ stats: true });
    return JSON.parse(await this.nextLine(5000)) as RelayStats;
  }

  /** Removes the rules (traffic goes direct again) and ends the program. */
  async stop(): Promise<void> {
    await run(['ip', 'netns', 'exec', this.ns, 'nft', 'delete', 'table', 'ip', TABLE], { allowFail: true });
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin?.end();
      child.kill('SIGKILL');
      await exited;
    }
  }

  private send(msg: unknown): void {
    if (!this.child?.stdin) throw new LabError(`udp relay in ${this.ns} is not running`);
    this.child.stdin.write(`${JSON.stringify(msg)}\n`);
  }

  private nextLine(timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(done);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new LabError(`udp relay in ${this.ns} did not answer in ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (line: string): void => {
        clearTimeout(timer);
        resolve(line);
      };
      this.waiting.push(done);
    });
  }
}

// ---- the program, run inside the namespace ------------------------------------------------------

function checkSettings(s: RelaySettings): void {
  for (const k of ['loss', 'duplicate', 'reorder'] as const)
    if (!(s[k] >= 0 && s[k] <= 1)) throw new Error(`${k} must be in [0, 1], got ${s[k]}`);
  for (const k of ['delayMs', 'jitterMs', 'reorderMs'] as const)
    if (!(s[k] >= 0)) throw new Error(`${k} must be ≥ 0, got ${s[k]}`);
}

async function relayMain(config: { routes: RelayRoute[]; settings: RelaySettings }): Promise<void> {
  let settings = { ...PASS_THROUGH, ...config.settings };
  checkSettings(settings);
  const stats: RelayStats = { received: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };
  const out = dgram.createSocket('udp4');
  await new Promise<void>((r) => out.bind(0, r));
  const forward = (msg: Buffer, route: RelayRoute, afterMs: number): void => {
    const go = (): void => {
      stats.forwarded++;
      out.send(msg, route.port, route.host, () => {});
    };
    if (afterMs <= 0) go();
    else setTimeout(go, afterMs);
  };
  for (const [i, route] of config.routes.entries()) {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg) => {
      stats.received++;
      const s = settings;
      if (s.loss > 0 && Math.random() < s.loss) {
        stats.dropped++;
        return;
      }
      let wait = s.delayMs + (s.jitterMs > 0 ? Math.random() * s.jitterMs : 0);
      if (s.reorder > 0 && Math.random() < s.reorder) {
        stats.reordered++;
        wait += s.reorderMs;
      }
      forward(msg, route, wait);
      if (s.duplicate > 0 && Math.random() < s.duplicate) {
        stats.duplicated++;
        forward(msg, route, wait + 1 + Math.random() * 9);
      }
    });
    await new Promise<void>((r) => sock.bind(FIRST_PORT + i, '127.0.0.1', r));
  }
  process.stdout.write('ready\n');
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    try {
      const msg = JSON.parse(line) as { set?: Partial<RelaySettings>; stats?: boolean };
      if (msg.set) {
        const next = { ...settings, ...msg.set };
        checkSettings(next);
        settings = next;
        process.stdout.write('ok\n');
      } else if (msg.stats) process.stdout.write(`${JSON.stringify(stats)}\n`);
    } catch (err) {
      process.stdout.write(`error: ${(err as Error).message}\n`);
    }
  });
  // The test process is gone: so is the relay.
  rl.on('close', () => process.exit(0));
}

if (process.argv[1] === SELF) {
  relayMain(JSON.parse(process.argv[2] ?? '{}')).catch((err: Error) => {
    process.stdout.write(`error: ${err.message}\n`);
    process.exit(1);
  });
}
