import type { ResourceState } from './resources/types.js';
import type { LocalPhase } from './scheduler.js';

/**
 * Probes (Pacemaker's "probe" in miniature): every node asks each resource of a group whether
 * it runs HERE, also where the group is not owned, to find copies the engine did not start —
 * left over by a crashed agent, or started at boot by something else. Two pure decisions live
 * here: when a group is due for a probe, and what to do with the answers. No I/O, no clock.
 *
 * Only the lease holder may run the group. So a copy found where the lease is not held is
 * stopped, whoever owns the group (another node, or nobody yet). A group found active on the
 * owner and here is thereby recovered to one copy, the owner's; one found on several nodes
 * while nobody owns it is stopped on all of them and started by the node that acquires the
 * lease (Pacemaker's default `multiple-active=stop_start`).
 */

/** One resource's answer to "do you run here?" (its `check`, run under the check timeout). */
export interface ProbeFinding {
  resource: string;
  state: ResourceState;
  reason?: string;
  output?: string;
}

export interface ProbeFacts {
  self: string;
  /** The group's resources in start order (dependencies first). */
  resources: readonly string[];
  /** The group's phase on this node when the probe answers came in. */
  phase: LocalPhase;
  /** This node holds the group's lease. */
  held: boolean;
  /** The cluster-wide lease owner as this node knows it (null: nobody, or not known yet). */
  owner: string | null;
  findings: readonly ProbeFinding[];
}

export type ProbeVerdict =
  /** Nothing of the group runs here. */
  | { kind: 'clean' }
  /**
   * The group is (being) activated or stopped here: a copy is the engine's own to take over
   * (a resource's start takes over or ends what it finds). `found`: what the checks saw running.
   */
  | { kind: 'owned-here'; found: string[] }
  /**
   * Copies run here although this node does not hold the lease: stop these resources, in this
   * order (reverse start order). `multipleActive` when another node owns (and runs) the group.
   */
  | { kind: 'stop-strays'; resources: string[]; reason: string; multipleActive: boolean };

/**
 * What to do with a probe's answers. `running` and `failed` both count as "something of it is
 * here": a failed check cannot vouch that nothing runs, and stop is idempotent (ADR 0002).
 */
export function decideProbe(f: ProbeFacts): ProbeVerdict {
  const found = new Set(f.findings.filter((x) => x.state !== 'stopped').map((x) => x.resource));
  if (f.held || f.phase !== 'stopped') return { kind: 'owned-here', found: [...found] };
  if (found.size === 0) return { kind: 'clean' };
  const resources = [...f.resources].reverse().filter((r) => found.has(r));
  const elsewhere = f.owner !== null && f.owner !== f.self;
  const reason = elsewhere
    ? `the group is active on ${f.owner} and found active on ${f.self} (multiple active)`
    : `found active on ${f.self}, which does not hold the group's lease`;
  return { kind: 'stop-strays', resources, reason, multipleActive: elsewhere };
}

export interface ProbeTiming {
  /** Time of the last probe of this group (monotonic ms), null if never probed. */
  lastAt: number | null;
  now: number;
  intervalMs: number;
  phase: LocalPhase;
  held: boolean;
  /** The group has actions running (a start, stop or an earlier probe). */
  busy: boolean;
}

/**
 * Whether a group is due for a probe: at once after the agent starts (its restart quarantine
 * keeps it from acquiring meanwhile, so the probe sees the node as it was left), then every
 * `intervalMs` while the group is stopped here. The owner does not probe: its monitors watch
 * what it runs.
 */
export function probeDue(t: ProbeTiming): boolean {
  if (t.held || t.phase !== 'stopped' || t.busy) return false;
  return t.lastAt === null || t.now - t.lastAt >= t.intervalMs;
}
