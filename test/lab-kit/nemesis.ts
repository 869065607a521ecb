import { setTimeout as sleep } from 'node:timers/promises';
import { Lab, type LabOptions, monoMs } from './lab.js';
import { FAULT_KINDS, type FaultKind, type NemesisFault, pickFault } from './nemesis-faults.js';
import { nemesisProblems } from './nemesis-verdict.js';
import { type WriteCheck, WriteLoad } from './nemesis-writes.js';
import type { HolderChange, SplitBrainChecker } from './split-brain.js';

/**
 * The nemesis (Jepsen's name for it): random fault rounds on a lab cluster of two nodes and a
 * witness, `fast` timing, while the split-brain checker watches the VIP (every address
 * event, and a sample every 10 ms) and a client writes numbered records through the VIP
 * every ~20 ms (nemesis-writes.ts). Each round waits for a steady owner, injects one random fault (nemesis-faults.ts) for a random
 * time, heals it and waits for convergence. Pass: never two VIP holders, and every
 * acknowledged write present in the shared file (nemesis-verdict.ts judges).
 */

export interface NemesisOptions {
  rounds: number;
  seed: number;
  /** Progress lines (one per round). */
  log?: (line: string) => void;
  /** Give up on a round that has not converged after this long. */
  convergeTimeoutMs?: number;
  /** Fixed faults, round i gets sequence[(i − 1) mod length] (default: drawn at random). */
  sequence?: readonly FaultKind[];
  /** Another service under test than the default VIP group and lab-run stores (shared-disk.ts). */
  variant?: NemesisVariant;
}

/**
 * A nemesis on a different group: the lab's groups, where the stores write, whether the
 * agents run them (as a resource of the group) and how the records are read at the end.
 */
export interface NemesisVariant {
  lab: LabOptions;
  file: string;
  storesByHalo: boolean;
  /** The records file's text at the end of the run (e.g. read inside the owner's mount namespace). */
  readRecords(lab: Lab, owner: string | null): Promise<string>;
}

export interface RoundResult {
  round: number;
  kind: NemesisFault['kind'];
  detail: string;
  /** How long the fault was in place. */
  heldMs: number;
  ownerBefore: string;
  ownerAfter: string | null;
  /** Holder-set changes that added a node, fault → convergence. */
  ownershipChanges: number;
  /** Longest time without an acknowledged write, fault → convergence. */
  downtimeMs: number | null;
  /** Fault → the first checker sample with the VIP on the new owner (rounds where it moved). */
  movedMs: number | null;
  /** Heal → converged, or null when the round did not converge. */
  convergedMs: number | null;
}

export interface NemesisReport {
  seed: number;
  rounds: RoundResult[];
  samples: number;
  /** Events or samples that saw two VIP holders (must be empty). */
  splitBrain: HolderChange[];
  writes: WriteCheck;
  durationMs: number;
}

/** Ordered rounds, a seeded source of randomness, so a failing run can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Nemesis {
  private lab: Lab | null = null;
  private checker: SplitBrainChecker | null = null;
  private writes: WriteLoad | null = null;
  private readonly results: RoundResult[] = [];
  private readonly random: () => number;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: NemesisOptions) {
    this.random = seededRandom(opts.seed);
    this.log = opts.log ?? (() => {});
  }

  /** Builds the lab, runs every round, tears everything down (also when a round throws). */
  async run(): Promise<NemesisReport> {
    const started = monoMs();
    const onExit = () => this.writes?.killSync();
    process.on('exit', onExit);
    try {
      await this.setUp();
      for (let i = 1; i <= this.opts.rounds; i++) {
        const r = await this.round(i);
        this.results.push(r);
        this.log(formatRound(r, this.opts.rounds));
        if (r.convergedMs === null) {
          // Further faults on an unconverged cluster would only bury the finding.
          this.log(`round ${i} did not converge: stopping`);
          break;
        }
      }
      await this.writes!.stop();
      const checked = await this.checker!.stop();
      const report: NemesisReport = {
        seed: this.opts.seed,
        rounds: [...this.results],
        samples: checked.samples,
        splitBrain: checked.violations,
        writes: this.writes!.check(
          this.opts.variant
            ? await this.opts.variant.readRecords(this.lab!, this.checker!.holders()[0] ?? null)
            : undefined,
        ),
        durationMs: monoMs() - started,
      };
      const failed = nemesisProblems(report, this.opts.rounds).length > 0;
      // The shared file and every agent's log, for the post-mortem, before the lab is removed.
      if (failed) this.log(`logs and the shared file kept in ${this.lab!.keepLogs()}`);
      return report;
    } catch (err) {
      if (this.lab) this.log(`logs kept in ${this.lab.keepLogs()}`);
      throw err;
    } finally {
      await this.writes?.stop();
      await this.checker?.stop();
      await this.lab?.cleanup();
      process.off('exit', onExit);
    }
  }

  private async setUp(): Promise<void> {
    const variant = this.opts.variant;
    const lab = await Lab.create({ timing: 'fast', ...variant?.lab });
    this.lab = lab;
    this.checker = lab.watchVip(10);
    await this.checker.start();
    await lab.startWitness();
    for (const node of lab.nodes) await lab.startAgent(node);
    this.writes = new WriteLoad(
      lab,
      undefined,
      undefined,
      undefined,
      variant ? { file: variant.file, storesByHalo: variant.storesByHalo } : {},
    );
    await this.writes.start();
    const t = monoMs();
    await lab.waitFor('a first acknowledged write', () => this.writes!.acksSince(t).length > 0, 30_000);
  }

  private async round(index: number): Promise<RoundResult> {
    const lab = this.lab!;
    const ownerBefore = await this.steadyOwner();
    // A random stretch of steady service first, so faults do not line up with renewals.
    await sleep(300 + this.random() * 700);
    const seq = this.opts.sequence;
    const kinds = seq && seq.length > 0 ? [seq[(index - 1) % seq.length]!] : FAULT_KINDS;
    const hooks = { restartStore: (n: string) => this.writes!.startStore(n) };
    const fault = pickFault(lab, this.random, ownerBefore, hooks, kinds);
    const injected = await fault.inject();
    await sleep(fault.holdMs);
    let healed: number;
    try {
      healed = await fault.heal();
    } finally {
      await this.repair();
    }
    const converged = await this.converge();
    const end = converged ?? monoMs();
    const changes = this.checker!.report().changes;
    const ownerAfter = converged === null ? null : (this.checker!.holders()[0] ?? null);
    const movedAt =
      ownerAfter !== null && ownerAfter !== ownerBefore
        ? this.checker!.firstHeldBy(ownerAfter, injected)
        : null;
    return {
      round: index,
      kind: fault.kind,
      detail: fault.detail,
      heldMs: healed - injected,
      ownerBefore,
      ownerAfter,
      ownershipChanges: acquisitions(changes, injected, end),
      downtimeMs: this.writes!.longestGap(injected, end),
      movedMs: movedAt === null ? null : movedAt - injected,
      convergedMs: converged === null ? null : converged - healed,
    };
  }

  /** Whatever a fault left behind (a failed heal), put right before convergence is judged. */
  private async repair(): Promise<void> {
    const lab = this.lab!;
    await lab.heal();
    for (const node of lab.nodes) {
      if (lab.pid(node) !== undefined) await lab.signal(node, 'SIGCONT');
      else await lab.startAgent(node);
    }
    if (lab.pid('w') === undefined) await lab.startWitness();
  }

  /** One VIP holder for 500 ms that both agents agree on and that acknowledges writes. */
  private async steadyOwner(timeoutMs = this.opts.convergeTimeoutMs ?? 30_000): Promise<string> {
    const lab = this.lab!;
    const checker = this.checker!;
    return lab.waitFor(
      'one steady owner',
      async () => {
        const h = checker.holders();
        const last = checker.lastChange();
        if (h.length !== 1 || !last || monoMs() - last.t < 500) return false;
        const owner = h[0]!;
        for (const node of lab.nodes) {
          const s = await lab.status(node);
          const g = s.groups.find((x) => x.name === 'vip');
          if (!s.quorum || s.quarantined || g?.owner !== owner) return false;
        }
        const running = await lab.runningOn();
        if (running.length !== 1 || running[0] !== owner) return false;
        return this.writes!.acksSince(last.t).some((a) => a.node === owner) ? owner : false;
      },
      timeoutMs,
    );
  }

  /**
   * Monotonic ms at which the cluster was seen converged after the heal (one steady owner
   * that every agent agrees on and that acknowledges writes), or null.
   */
  private async converge(): Promise<number | null> {
    try {
      await this.steadyOwner();
      return monoMs();
    } catch {
      return null;
    }
  }
}

/** Holder-set changes in [from, to] that add a node: ownership changes. */
export function acquisitions(changes: readonly HolderChange[], from: number, to: number): number {
  let n = 0;
  let prev: string[] = [];
  for (const c of changes) {
    if (c.t >= from && c.t <= to) for (const h of c.holders) if (!prev.includes(h)) n += 1;
    prev = c.holders;
  }
  return n;
}

function formatRound(r: RoundResult, total: number): string {
  const ms = (v: number | null) => (v === null ? '–' : `${Math.round(v)} ms`);
  return (
    `round ${r.round}/${total} ${r.kind} (${r.detail}, ${ms(r.heldMs)}): ` +
    `${r.ownerBefore} → ${r.ownerAfter ?? '?'}, ${r.ownershipChanges} ownership change(s), ` +
    `downtime ${ms(r.downtimeMs)}${r.movedMs === null ? '' : ` (VIP moved ${ms(r.movedMs)})`}, ${r.convergedMs === null ? 'DID NOT CONVERGE' : `converged ${ms(r.convergedMs)} after heal`}`
  );
}
