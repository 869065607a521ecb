import type { HaloConfig } from '../config/model.js';
import { childLogger, type Logger } from '../log.js';
import { type Clock, monotonicClock } from '../util/clock.js';
import { IntentStore, isIntentDigest, sameDigest } from './embedded/intent-store.js';
import { linksByName, votersOf, WITNESS } from './embedded/voters.js';
import { LeaseAcceptor } from './lease/acceptor.js';
import { BROADCAST, isAcceptorMessage, type Outgoing, parseLeaseMessage } from './lease/messages.js';
import { isHeartbeat, Membership } from './membership.js';
import { leaseMath } from './timing.js';
import type { Link } from './transport/udp-transport.js';
import { UdpTransport } from './transport/udp-transport.js';

/**
 * `halo witness`: a vote without resources, so two nodes can keep a majority. It is the acceptor
 * code alone plus a RAM copy of each cluster's admin intent, and it can serve several
 * clusters at once, keyed by cluster name, each with its own key. No disk: after a restart it
 * stays silent for the quarantine M, like any acceptor.
 */

export interface WitnessCluster {
  config: HaloConfig;
  key: Buffer;
}

interface ClusterState {
  config: HaloConfig;
  acceptor: LeaseAcceptor;
  membership: Membership;
  intent: IntentStore;
  nodes: string[];
  heartbeatMs: number;
  nextHeartbeat: number;
}

/**
 * The witness sleeps until an accepted lease expires (its EXPIRED push lets the next owner go
 * at once) or a heartbeat is due, but at least this often.
 */
const IDLE_TICK_MS = 250;

export class WitnessServer {
  private readonly clusters = new Map<string, ClusterState>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly listen: Link;
  private readonly members: WitnessCluster[];
  private transport!: UdpTransport;
  private timer: NodeJS.Timeout | undefined;
  /** When the pending tick runs (monotonic ms). */
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(opts: { listen: Link; clusters: WitnessCluster[]; log: Logger; clock?: Clock }) {
    this.listen = opts.listen;
    this.members = opts.clusters;
    this.log = childLogger(opts.log, { component: 'witness' });
    this.clock = opts.clock ?? monotonicClock;
  }

  async start(): Promise<void> {
    const now = this.clock.now();
    const keys: Record<string, Buffer> = {};
    const epochs: Record<string, number> = {};
    const clusterPeers: Record<string, Record<string, Link[]>> = {};
    for (const { config, key } of this.members) {
      const name = config.cluster.name;
      const voters = votersOf(config);
      const acceptor = new LeaseAcceptor({ quarantineMs: leaseMath(config.cluster.timing).quarantineMs });
      acceptor.boot(now);
      const membership = new Membership({
        self: WITNESS,
        members: voters.map((v) => ({ name: v.name, kind: v.kind })),
        heartbeatMs: config.cluster.timing.heartbeatMs,
        clock: this.clock,
      });
      membership.setSelfStatus({ eligible: true, reasons: [] }, config.epoch);
      this.clusters.set(name, {
        config,
        acceptor,
        membership,
        intent: new IntentStore(),
        nodes: voters.filter((v) => v.kind === 'node').map((v) => v.name),
        heartbeatMs: config.cluster.timing.heartbeatMs,
        nextHeartbeat: 0,
      });
      keys[name] = key;
      epochs[name] = config.epoch;
      clusterPeers[name] = linksByName(voters, WITNESS);
    }
    const first = this.members[0]!.config;
    this.transport = new UdpTransport({
      cluster: first.cluster.name,
      epoch: first.epoch,
      self: WITNESS,
      keys,
      epochs,
      listen: [this.listen],
      peers: clusterPeers[first.cluster.name] ?? {},
      clusterPeers,
      clock: this.clock,
      log: this.log,
    });
    this.transport.onMessage((from, payloads, meta) => this.receive(meta.cluster, from, payloads));
    await this.transport.start();
    this.log.info(
      { listen: `${this.listen.host}:${this.listen.port}`, clusters: [...this.clusters.keys()] },
      'witness started',
    );
    this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.transport?.stop();
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (const [name, c] of this.clusters) {
      this.send(name, c, c.acceptor.tick(now));
      if (now >= c.nextHeartbeat) {
        c.nextHeartbeat = now + c.heartbeatMs;
        for (const n of c.nodes) this.transport.send(n, c.membership.heartbeatFor(n), name);
      }
    }
    this.transport.flush();
    this.schedule(now);
  }

  /** Sets the timer for the earliest thing due, unless it is set for earlier already. */
  private schedule(now: number): void {
    let wake = now + IDLE_TICK_MS;
    for (const c of this.clusters.values())
      wake = Math.min(wake, c.nextHeartbeat, c.acceptor.nextWakeAt() ?? Number.POSITIVE_INFINITY);
    if (this.timer !== undefined && this.timerAt <= wake) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = wake;
    this.timer = setTimeout(() => this.tick(), Math.max(1, wake - now));
  }

  private receive(cluster: string, from: string, payloads: unknown[]): void {
    const c = this.clusters.get(cluster);
    if (!c) return;
    const now = this.clock.now();
    for (const payload of payloads) {
      if (isHeartbeat(payload)) {
        c.membership.onHeartbeat(from, payload);
        continue;
      }
      const env = payload as { k?: string; m?: unknown; entries?: unknown; id?: unknown; d?: unknown };
      if (env?.k === 'lease') {
        const msg = parseLeaseMessage(env.m);
        if (msg && isAcceptorMessage(msg)) this.send(cluster, c, c.acceptor.handle(from, msg, now));
      } else if (env?.k === 'intent' && typeof env.entries === 'object' && env.entries !== null) {
        c.intent.merge(env.entries as Record<string, never>);
        if (typeof env.id === 'number') this.transport.send(from, { k: 'intent-ack', id: env.id }, cluster);
        else this.transport.send(from, { k: 'intent', entries: c.intent.snapshot() }, cluster);
      } else if (env?.k === 'intent-digest' && isIntentDigest(env.d)) {
        // A node's periodic exchange: answer only when the copies differ (the node then merges
        // ours, and sends its own, which we merge and answer with ours once more).
        if (!sameDigest(env.d, c.intent.digest())) {
          this.transport.send(from, { k: 'intent', entries: c.intent.snapshot() }, cluster);
          this.transport.send(from, { k: 'intent-pull' }, cluster);
        }
      }
    }
    this.transport.flush();
    // A lease accepted just now expires before the tick that was set.
    if (this.timer !== undefined) this.schedule(now);
  }

  private send(cluster: string, c: ClusterState, out: Outgoing[]): void {
    for (const o of out) {
      const targets = o.to === BROADCAST ? c.nodes : [o.to];
      for (const to of targets) this.transport.send(to, { k: 'lease', m: o.msg }, cluster);
    }
  }
}
