import type { Timing } from '../../src/config/model.js';
import { LeaseAcceptor } from '../../src/coordination/lease/acceptor.js';
import { termToString } from '../../src/coordination/lease/ballot.js';
import { type BatchOutput, BatchRenewer } from '../../src/coordination/lease/batch-renewer.js';
import type { LeaseMessage, Outgoing } from '../../src/coordination/lease/messages.js';
import { BATCH_GROUP, BROADCAST, isAcceptorMessage } from '../../src/coordination/lease/messages.js';
import { type LeaseEvent, LeaseProposer } from '../../src/coordination/lease/proposer.js';
import { leaseMath } from '../../src/coordination/timing.js';
import { EventQueue } from './event-queue.js';
import { FakeNetwork } from './fake-network.js';
import { findOverlaps } from './overlaps.js';
import type { Prng } from './prng.js';

/**
 * A deterministic discrete-event simulation of one failover group run by the pure lease core
 * on several nodes (and optionally a witness: a voter without a proposer).
 *
 * Time: `now` is true (global) time in ms. Each node has its own monotonic clock
 * `local = offset + rate × now` (rates within 1 ± ρ, arbitrary offsets) and a wall clock
 * (for ballots only) off by a few ms. The core only ever sees local times.
 *
 * Faults: the FakeNetwork (loss, delay, duplication, reordering, asymmetric partitions);
 * crash (acceptor and proposer state lost; the node's resources die with it); restart (fresh
 * state, acceptor quarantine); pause (the node processes nothing — messages and timers queue
 * up — then resumes with its clock having run on, like SIGSTOP/SIGCONT).
 *
 * Ownership as the safety check sees it: a node is "active" from its `acquired` event until
 * the first of its demote event, release, crash, or the true time at which its own clock
 * reaches validUntil (the deadman ladder guarantees the stop by then even if the agent is
 * paused). Active windows of different nodes must never overlap.
 */

export interface SimNodeSpec {
  name: string;
  kind: 'node' | 'witness';
  weight?: number;
  /** Candidacy rank (0 = preferred); null = not a candidate. Ignored for the witness. */
  rank: number | null;
}

export interface ClockSpec {
  /** Local ms per true ms (1 ± ρ). */
  rate: number;
  /** Local monotonic reading at true time 0. */
  offset: number;
  /** Wall clock error in ms (ballots only). */
  wallSkewMs: number;
}

export interface SimOptions {
  timing: Timing;
  nodes: readonly SimNodeSpec[];
  clocks: Readonly<Record<string, ClockSpec>>;
  rng: Prng;
  group?: string;
  /** Record every delivery in the trace (verbose replay). */
  traceMessages?: boolean;
  /** Record lease events and faults in the trace. */
  trace?: boolean;
  /** Owners renew through a BatchRenewer (as the agent does) instead of a round per group. */
  batched?: boolean;
}

export interface OwnerInterval {
  node: string;
  term: number;
  start: number;
  /** True time the window ends (closed or its validUntil on the owner's clock). */
  end: number;
  closedBy: string | null;
}

interface SimNode {
  spec: SimNodeSpec;
  index: number;
  clock: ClockSpec;
  up: boolean;
  pausedUntil: number;
  pending: Array<() => void>;
  acceptor: LeaseAcceptor | null;
  proposer: LeaseProposer | null;
  renewer: BatchRenewer | null;
  rank: number | null;
  tickGen: number;
  active: OwnerInterval | null;
}

/** Wall-clock epoch of the simulation (any realistic ms value works). */
const WALL_EPOCH_MS = 1_760_000_000_000;
/** Timers fire up to this late (event-loop jitter). */
const TICK_JITTER_MS = 0.5;

export class SimCluster {
  now = 0;
  readonly net: FakeNetwork;
  readonly intervals: OwnerInterval[] = [];
  /** Protocol or bookkeeping inconsistencies seen during the run. */
  readonly problems: string[] = [];
  readonly trace: string[] = [];
  deliveries = 0;
  /** Successful renewals (extended events), whichever way they were renewed. */
  extensions = 0;

  readonly #opts: SimOptions;
  readonly #group: string;
  readonly #queue = new EventQueue();
  readonly #nodes = new Map<string, SimNode>();
  readonly #voters: string[];
  #maxTerm = -1;

  constructor(options: SimOptions) {
    this.#opts = options;
    this.#group = options.group ?? 'g';
    this.net = new FakeNetwork(options.rng);
    options.nodes.forEach((spec, index) => {
      const clock = options.clocks[spec.name];
      if (!clock) throw new Error(`no clock for ${spec.name}`);
      this.#nodes.set(spec.name, {
        spec,
        index,
        clock,
        up: false,
        pausedUntil: 0,
        pending: [],
        acceptor: null,
        proposer: null,
        renewer: null,
        rank: spec.kind === 'node' ? spec.rank : null,
        tickGen: 0,
        active: null,
      });
    });
    this.#voters = options.nodes.map((n) => n.name);
  }

  get math() {
    return leaseMath(this.#opts.timing);
  }

  names(): string[] {
    return [...this.#nodes.keys()];
  }

  /** Starts every node at true time 0 (a cold start: all acceptors in quarantine). */
  start(): void {
    for (const n of this.#nodes.values()) this.#boot(n);
  }

  /** Runs `fn` at true time `t`. */
  at(t: number, label: string, fn: () => void): void {
    this.#queue.push(t, () => {
      this.log(`** ${label}`);
      fn();
    });
  }

  runUntil(t: number): void {
    for (;;) {
      const next = this.#queue.peekTime();
      if (next === null || next > t) break;
      const e = this.#queue.pop();
      if (!e) break;
      this.now = e.t;
      e.run();
    }
    this.now = t;
  }

  log(line: string): void {
    if (this.#opts.trace || this.#opts.traceMessages)
      this.trace.push(`${this.now.toFixed(3).padStart(10)} ${line}`);
  }

  local(name: string, t = this.now): number {
    const n = this.#node(name);
    return n.clock.offset + n.clock.rate * t;
  }

  isUp(name: string): boolean {
    return this.#node(name).up;
  }

  isPaused(name: string): boolean {
    return this.now < this.#node(name).pausedUntil;
  }

  /** Nodes whose active window contains true time `t` (call with t ≤ now). */
  ownersAt(t: number): OwnerInterval[] {
    return this.intervals.filter((iv) => iv.start <= t && t < iv.end);
  }

  // ---- faults -------------------------------------------------------------------------

  crash(name: string): void {
    const n = this.#node(name);
    if (!n.up) return;
    this.#close(n, 'crash');
    n.up = false;
    n.acceptor = null;
    n.proposer = null;
    n.pending = [];
    n.pausedUntil = 0;
    n.tickGen++;
  }

  restart(name: string): void {
    const n = this.#node(name);
    if (n.up) return;
    this.#boot(n);
  }

  /** The node processes nothing for `ms`; then everything queued runs at once. */
  pause(name: string, ms: number): void {
    const n = this.#node(name);
    if (!n.up) return;
    const until = Math.max(n.pausedUntil, this.now + ms);
    n.pausedUntil = until;
    this.#queue.push(until, () => this.#resume(n, until));
  }

  /** Planned hand-over by the current owner (no-op if `name` holds nothing). */
  release(name: string): void {
    const n = this.#node(name);
    this.#onNode(n, () => {
      if (!n.proposer) return;
      const out = n.proposer.release(this.local(name));
      this.#close(n, 'release');
      this.#send(n, out.send);
    });
  }

  setCandidacy(name: string, rank: number | null): void {
    const n = this.#node(name);
    if (n.spec.kind !== 'node') return;
    n.rank = rank;
    this.#onNode(n, () => n.proposer?.setCandidacy(rank));
  }

  // ---- checks -------------------------------------------------------------------------

  /** Pairs of active windows of different nodes that overlap in true time. */
  overlaps(): string[] {
    return findOverlaps(this.intervals);
  }

  // ---- internals ----------------------------------------------------------------------

  #node(name: string): SimNode {
    const n = this.#nodes.get(name);
    if (!n) throw new Error(`unknown node ${name}`);
    return n;
  }

  #boot(n: SimNode): void {
    n.up = true;
    n.pausedUntil = 0;
    n.pending = [];
    n.acceptor = new LeaseAcceptor({ quarantineMs: this.math.quarantineMs });
    n.acceptor.boot(this.local(n.spec.name));
    n.proposer = null;
    n.renewer = null;
    if (n.spec.kind === 'node') {
      const voters = this.#opts.nodes.map((v) => ({ name: v.name, weight: v.weight ?? 1 }));
      if (this.#opts.batched)
        n.renewer = new BatchRenewer({
          node: n.spec.name,
          voters,
          timing: this.#opts.timing,
          random: this.#opts.rng.fn(),
        });
      n.proposer = new LeaseProposer({
        node: n.spec.name,
        group: this.#group,
        voters: this.#opts.nodes.map((v) => ({ name: v.name, weight: v.weight ?? 1 })),
        timing: this.#opts.timing,
        ballotIndex: n.index,
        wallClock: () => WALL_EPOCH_MS + this.now + n.clock.wallSkewMs,
        random: this.#opts.rng.fn(),
        batchRenewal: this.#opts.batched ?? false,
      });
      n.proposer.setCandidacy(n.rank);
    }
    this.log(`${n.spec.name} boot (quarantine until local ${fmt(n.acceptor.quarantineEndsAt())})`);
    this.#scheduleTick(n);
  }

  #resume(n: SimNode, until: number): void {
    if (!n.up || n.pausedUntil !== until) return;
    n.pausedUntil = 0;
    const pending = n.pending;
    n.pending = [];
    this.log(`${n.spec.name} resumes (${pending.length} queued)`);
    for (const fn of pending) fn();
    this.#scheduleTick(n);
  }

  /** Runs `fn` on the node now, or when it resumes; drops it if the node is down. */
  #onNode(n: SimNode, fn: () => void): void {
    if (!n.up) return;
    if (this.now < n.pausedUntil) {
      n.pending.push(fn);
      return;
    }
    fn();
    this.#scheduleTick(n);
  }

  #scheduleTick(n: SimNode): void {
    if (!n.up) return;
    let wake = Number.POSITIVE_INFINITY;
    if (n.proposer) wake = Math.min(wake, n.proposer.nextWakeAt());
    if (n.renewer) wake = Math.min(wake, n.renewer.nextWakeAt());
    const aw = n.acceptor?.nextWakeAt();
    if (aw !== undefined && aw !== null) wake = Math.min(wake, aw);
    if (wake === Number.POSITIVE_INFINITY) return;
    const due = wake === Number.NEGATIVE_INFINITY ? this.now : (wake - n.clock.offset) / n.clock.rate;
    const t = Math.max(due, this.now) + 1e-4 + this.#opts.rng.next() * TICK_JITTER_MS;
    const gen = ++n.tickGen;
    this.#queue.push(t, () => {
      if (n.tickGen !== gen) return;
      this.#onNode(n, () => this.#tick(n));
    });
  }

  #tick(n: SimNode): void {
    const local = this.local(n.spec.name);
    if (n.acceptor) this.#send(n, n.acceptor.tick(local));
    if (n.proposer) {
      const acceptor = n.acceptor;
      const out = n.proposer.tick(
        local,
        acceptor ? () => acceptor.view(this.#group, local).accepted : undefined,
      );
      this.#send(n, out.send);
      this.#events(n, out.events);
    }
    if (n.renewer && n.proposer) {
      const proposer = n.proposer;
      this.#batch(
        n,
        n.renewer.tick(local, () => [proposer.renewalEntry(local)].filter((e) => e !== null)),
      );
    }
  }

  #batch(n: SimNode, out: BatchOutput): void {
    this.#send(n, out.send);
    const local = this.local(n.spec.name);
    for (const entry of out.renewed) {
      const r = n.proposer!.applyRenewal(entry, out.t0, local);
      this.#send(n, r.send);
      this.#events(n, r.events);
    }
    for (const _ of [...out.refused, ...out.stale]) {
      const r = n.proposer!.renewAlone(local);
      this.#send(n, r.send);
      this.#events(n, r.events);
    }
  }

  #process(n: SimNode, from: string, msg: LeaseMessage): void {
    this.deliveries++;
    if (this.#opts.traceMessages) this.log(`${from} -> ${n.spec.name} ${JSON.stringify(msg)}`);
    const local = this.local(n.spec.name);
    if (isAcceptorMessage(msg)) {
      if (n.acceptor) this.#send(n, n.acceptor.handle(from, msg, local));
    } else if (msg.g === BATCH_GROUP) {
      if (n.renewer) this.#batch(n, n.renewer.handle(from, msg, local));
    } else if (n.proposer) {
      const out = n.proposer.handle(from, msg, local);
      this.#send(n, out.send);
      this.#events(n, out.events);
    }
  }

  #send(n: SimNode, outs: readonly Outgoing[]): void {
    for (const o of outs) {
      const targets = o.to === BROADCAST ? this.#voters : [o.to];
      for (const to of targets) {
        const target = this.#nodes.get(to);
        if (!target) continue;
        for (const delay of this.net.transmit(n.spec.name, to, this.now)) {
          this.#queue.push(this.now + delay, () =>
            this.#onNode(target, () => this.#process(target, n.spec.name, o.msg)),
          );
        }
      }
    }
  }

  #events(n: SimNode, events: readonly LeaseEvent[]): void {
    const name = n.spec.name;
    for (const ev of events) {
      switch (ev.type) {
        case 'acquired': {
          if (n.active) this.problems.push(`${fmt(this.now)}: ${name} acquired while already active`);
          if (ev.term <= this.#maxTerm) {
            this.problems.push(
              `${fmt(this.now)}: ${name} acquired term ${ev.term}, not above earlier term ${this.#maxTerm}`,
            );
          }
          this.#maxTerm = Math.max(this.#maxTerm, ev.term);
          const iv: OwnerInterval = {
            node: name,
            term: ev.term,
            start: this.now,
            end: this.#trueOf(n, ev.validUntil),
            closedBy: null,
          };
          this.intervals.push(iv);
          n.active = iv;
          this.log(
            `${name} ACQUIRED term ${termToString(ev.term)} until ${fmt(iv.end)} (${fmt(iv.end - this.now)}ms)`,
          );
          break;
        }
        case 'extended':
          if (!n.active) this.problems.push(`${fmt(this.now)}: ${name} extended while not active`);
          else if (n.active.term !== ev.term)
            this.problems.push(`${fmt(this.now)}: ${name} extension changed the term`);
          else n.active.end = this.#trueOf(n, ev.validUntil);
          this.extensions++;
          if (this.#opts.traceMessages)
            this.log(`${name} extended until ${fmt(this.#trueOf(n, ev.validUntil))}`);
          break;
        case 'demote':
          if (!n.active) this.problems.push(`${fmt(this.now)}: ${name} demoted while not active`);
          this.#close(n, `demote: ${ev.reason}`);
          break;
        case 'ownerSeen':
          this.log(`${name} sees owner ${ev.owner} term ${ev.term}`);
          break;
      }
    }
  }

  #close(n: SimNode, why: string): void {
    const iv = n.active;
    if (!iv) return;
    iv.end = Math.min(iv.end, this.now);
    iv.closedBy = why;
    n.active = null;
    this.log(`${n.spec.name} inactive (${why}); window ended at ${fmt(iv.end)}`);
  }

  #trueOf(n: SimNode, local: number): number {
    return (local - n.clock.offset) / n.clock.rate;
  }
}

function fmt(ms: number): string {
  return ms.toFixed(3);
}
