import type { TimingProfileName } from '../../src/config/model.js';
import { RHO, TIMING_PROFILES } from '../../src/coordination/timing.js';
import { CALM, type LinkConditions } from './fake-network.js';
import { Prng } from './prng.js';
import { type ClockSpec, SimCluster, type SimNodeSpec } from './sim-cluster.js';

/**
 * Seeded random fault schedules for the lease simulator, and the checks every schedule must
 * pass:
 * (a) safety — never two nodes active with overlapping windows (true time), terms of
 *     successive acquisitions strictly increase, extensions keep the term;
 * (b) liveness — once every fault has healed and the last message sent before the heal has
 *     arrived, exactly one node owns the group within 2·D + 4·R, and still at the end.
 *
 * Schedule: a cold start, a fault phase of 1–5 D with 1–5 overlapping faults (partitions,
 * one-way blocks, loss/duplication/delay spikes, a very slow link, crash + restart, pause,
 * planned release, candidacy withdrawn; sometimes bursts of flapping partitions or rolling
 * restarts), then everything heals.
 */

export interface ScheduleOptions {
  profile?: TimingProfileName;
  /** Record lease events and faults. */
  trace?: boolean;
  /** Also record every message delivery. */
  verbose?: boolean;
  /** Owners renew through the BatchRenewer, as the agent does. */
  batched?: boolean;
}

export interface ScheduleResult {
  seed: number;
  profile: TimingProfileName;
  /** One line per failed check; empty when the schedule passed. */
  failures: string[];
  description: string[];
  trace: string[];
  acquisitions: number;
  extensions: number;
  deliveries: number;
}

type FaultKind =
  | 'partition'
  | 'isolate'
  | 'oneway'
  | 'chaos'
  | 'slowlink'
  | 'crash'
  | 'pause'
  | 'release'
  | 'nocandidate';

interface Fault {
  kind: FaultKind;
  at: number;
  end: number;
  label: string;
  /** Network faults: applied while active (the network is rebuilt from all active faults). */
  net?: (sim: SimCluster) => void;
  start?: (sim: SimCluster) => void;
  stop?: (sim: SimCluster) => void;
}

const SHAPES: ReadonlyArray<{ weight: number; nodes: Array<Omit<SimNodeSpec, 'rank'>> }> = [
  { weight: 5, nodes: [node('n1'), node('n2'), { name: 'w', kind: 'witness' }] },
  { weight: 2, nodes: [node('n1'), node('n2'), node('n3')] },
  { weight: 1, nodes: [{ ...node('n1'), weight: 2 }, node('n2'), node('n3'), node('n4')] },
  { weight: 1, nodes: [node('n1'), node('n2'), node('n3'), node('n4'), node('n5')] },
  { weight: 1, nodes: [node('n1'), node('n2'), node('n3'), { name: 'w', kind: 'witness' }, node('n4')] },
];

function node(name: string): Omit<SimNodeSpec, 'rank'> {
  return { name, kind: 'node' };
}

export function runSchedule(seed: number, options: ScheduleOptions = {}): ScheduleResult {
  const profile = options.profile ?? 'fast';
  const timing = TIMING_PROFILES[profile];
  const D = timing.leaseMs;
  const R = timing.renewMs;
  const rng = new Prng(seed);
  const description: string[] = [];

  // Cluster shape, candidacy ranks, clocks.
  const total = SHAPES.reduce((a, s) => a + s.weight, 0);
  let roll = rng.next() * total;
  let shape = SHAPES[0]!;
  for (const s of SHAPES) {
    roll -= s.weight;
    if (roll < 0) {
      shape = s;
      break;
    }
  }
  const nodeNames = shape.nodes.filter((n) => n.kind === 'node').map((n) => n.name);
  const order = rng.shuffle(nodeNames);
  const noCandidate = nodeNames.length > 2 && rng.chance(0.2) ? order[order.length - 1] : undefined;
  const specs: SimNodeSpec[] = shape.nodes.map((n) => {
    const r = order.indexOf(n.name);
    return { ...n, rank: n.kind === 'node' && n.name !== noCandidate ? r : null };
  });
  const clocks: Record<string, ClockSpec> = {};
  for (const s of specs) {
    const u = rng.pick([-1, 1, rng.range(-1, 1)]);
    clocks[s.name] = { rate: 1 + RHO * u, offset: rng.range(0, 1e6), wallSkewMs: rng.range(-20, 20) };
  }
  description.push(
    `profile ${profile}: D=${D} R=${R} S=${timing.stopBudgetMs}; voters ${specs
      .map(
        (s) =>
          `${s.name}${s.weight ? `(w${s.weight})` : ''}${s.kind === 'node' ? ` rank ${s.rank ?? '-'}` : ''}`,
      )
      .join(', ')}`,
  );
  description.push(
    `clock rates ${specs.map((s) => `${s.name} ${(((clocks[s.name]?.rate ?? 1) - 1) * 1e6).toFixed(0)}ppm`).join(', ')}`,
  );

  const sim = new SimCluster({
    timing,
    nodes: specs,
    clocks,
    rng,
    trace: options.trace || options.verbose,
    traceMessages: options.verbose,
    batched: options.batched ?? false,
  });
  const math = sim.math;

  // Fault phase: starts after the cold-start quarantine plus a little, so an owner exists
  // at least sometimes when the faults begin.
  const faultStart = math.quarantineMs + rng.range(0, 2 * D);
  const heal = faultStart + rng.range(1, 5) * D;
  const faults: Fault[] = [];
  const nFaults = rng.int(1, 5);
  const allNames = specs.map((s) => s.name);
  for (let i = 0; i < nFaults; i++) {
    const at = rng.range(faultStart, heal);
    const end = Math.min(heal, at + rng.range(0.1, 3) * D);
    const kind = rng.pick<FaultKind>([
      'partition',
      'partition',
      'isolate',
      'isolate',
      'oneway',
      'chaos',
      'chaos',
      'slowlink',
      'crash',
      'crash',
      'pause',
      'pause',
      'release',
      'nocandidate',
    ]);
    if (rng.chance(0.1)) {
      // Flapping partitions, or rolling restarts: several short faults back to back.
      const burst: FaultKind = rng.chance(0.5) ? 'partition' : 'crash';
      let t = at;
      for (let k = rng.int(3, 8); k > 0 && t < heal; k--) {
        const e = Math.min(heal, t + rng.range(0.04, 0.4) * D);
        faults.push(makeFault(burst, t, e, rng, allNames, nodeNames, specs, D));
        t = e + rng.range(0, 0.2) * D;
      }
    } else {
      faults.push(makeFault(kind, at, end, rng, allNames, nodeNames, specs, D));
    }
  }
  faults.sort((a, b) => a.at - b.at);
  for (const f of faults) description.push(`${f.at.toFixed(1)}..${f.end.toFixed(1)} ${f.label}`);
  description.push(`${heal.toFixed(1)} heal`);

  const active = new Set<Fault>();
  const rebuildNetwork = () => {
    sim.net.heal();
    for (const f of active) f.net?.(sim);
  };
  for (const f of faults) {
    sim.at(f.at, `start ${f.label}`, () => {
      active.add(f);
      if (f.net) rebuildNetwork();
      f.start?.(sim);
    });
    sim.at(f.end, `end ${f.label}`, () => {
      active.delete(f);
      if (f.net) rebuildNetwork();
      f.stop?.(sim);
    });
  }

  sim.start();
  sim.runUntil(heal);
  // Heal: every fault has ended by construction; make sure of it.
  sim.net.heal();
  for (const s of specs) {
    if (!sim.isUp(s.name)) sim.restart(s.name);
    if (s.kind === 'node') sim.setCandidacy(s.name, s.rank);
  }
  sim.log('** healed');
  const quiet = Math.max(heal, sim.net.lastArrival);
  const deadline = quiet + 2 * D + 4 * R;
  const endAt = deadline + 3 * R;
  sim.runUntil(endAt);

  const failures: string[] = [...sim.problems, ...sim.overlaps()];
  const hasCandidate = specs.some((s) => s.rank !== null);
  if (hasCandidate) {
    for (const [t, what] of [
      [deadline, `2·D + 4·R after the network went quiet (${deadline.toFixed(1)})`],
      [endAt - 1e-3, `at the end of the run (${endAt.toFixed(1)})`],
    ] as const) {
      const owners = sim.ownersAt(t);
      if (owners.length !== 1) {
        failures.push(`liveness: ${owners.length} owners ${what}: [${owners.map((o) => o.node).join(', ')}]`);
      }
    }
  }
  return {
    seed,
    profile,
    failures,
    description,
    trace: sim.trace,
    acquisitions: sim.intervals.length,
    extensions: sim.extensions,
    deliveries: sim.deliveries,
  };
}

function makeFault(
  kind: FaultKind,
  at: number,
  end: number,
  rng: Prng,
  all: readonly string[],
  nodes: readonly string[],
  specs: readonly SimNodeSpec[],
  D: number,
): Fault {
  switch (kind) {
    case 'partition': {
      const sides = rng.int(2, 3);
      const side = new Map(all.map((n) => [n, rng.int(0, sides - 1)]));
      const groups = [...Array(sides).keys()].map((s) => all.filter((n) => side.get(n) === s).join(','));
      return {
        kind,
        at,
        end,
        label: `partition ${groups.map((g) => `{${g}}`).join(' | ')}`,
        net: (sim) => {
          for (const a of all) for (const b of all) if (side.get(a) !== side.get(b)) sim.net.block(a, b);
        },
      };
    }
    case 'isolate': {
      const victim = rng.pick(all);
      return {
        kind,
        at,
        end,
        label: `isolate ${victim}`,
        net: (sim) => {
          for (const o of all) {
            if (o === victim) continue;
            sim.net.block(o, victim);
            sim.net.block(victim, o);
          }
        },
      };
    }
    case 'oneway': {
      const links: Array<[string, string]> = [];
      const k = rng.int(1, 3);
      for (let i = 0; i < k; i++) {
        const a = rng.pick(all);
        const b = rng.pick(all.filter((x) => x !== a));
        links.push([a, b]);
      }
      return {
        kind,
        at,
        end,
        label: `one-way block ${links.map(([a, b]) => `${a}->${b}`).join(' ')}`,
        net: (sim) => {
          for (const [a, b] of links) sim.net.block(a, b);
        },
      };
    }
    case 'chaos': {
      const c: LinkConditions = {
        loss: rng.range(0, 0.5),
        dup: rng.range(0, 0.3),
        delayMinMs: 0.1,
        delayMaxMs: rng.range(1, 0.3 * D),
        spike: rng.chance(0.5) ? rng.range(0, 0.1) : 0,
        spikeMaxMs: rng.range(0.3 * D, 3 * D),
      };
      return {
        kind,
        at,
        end,
        label: `chaos loss ${(c.loss * 100).toFixed(0)}% dup ${(c.dup * 100).toFixed(0)}% delay ≤${c.delayMaxMs.toFixed(0)}ms spikes ${(c.spike * 100).toFixed(1)}% ≤${c.spikeMaxMs.toFixed(0)}ms`,
        net: (sim) => sim.net.setBase(c),
      };
    }
    case 'slowlink': {
      const a = rng.pick(all);
      const b = rng.pick(all.filter((x) => x !== a));
      const delay = rng.range(0.2 * D, 3 * D);
      const c: LinkConditions = { ...CALM, delayMinMs: delay * 0.5, delayMaxMs: delay };
      return {
        kind,
        at,
        end,
        label: `slow link ${a}->${b} ≤${delay.toFixed(0)}ms`,
        net: (sim) => sim.net.setLink(a, b, c),
      };
    }
    case 'crash': {
      const victim = rng.pick(all);
      return {
        kind,
        at,
        end,
        label: `crash ${victim}, restart at end`,
        start: (sim) => sim.crash(victim),
        stop: (sim) => sim.restart(victim),
      };
    }
    case 'pause': {
      const victim = rng.pick(all);
      const ms = end - at;
      return {
        kind,
        at,
        end,
        label: `pause ${victim} ${ms.toFixed(0)}ms`,
        start: (sim) => sim.pause(victim, ms),
      };
    }
    case 'release': {
      return {
        kind,
        at,
        end,
        label: 'owner releases (planned move), candidacy back at end',
        start: (sim) => {
          for (const o of sim.ownersAt(sim.now)) sim.release(o.node);
        },
        stop: (sim) => {
          for (const s of specs) if (s.kind === 'node' && sim.isUp(s.name)) sim.setCandidacy(s.name, s.rank);
        },
      };
    }
    case 'nocandidate': {
      const victim = rng.pick(nodes);
      const rank = specs.find((s) => s.name === victim)?.rank ?? null;
      return {
        kind,
        at,
        end,
        label: `${victim} withdraws candidacy`,
        start: (sim) => sim.setCandidacy(victim, null),
        stop: (sim) => sim.setCandidacy(victim, rank),
      };
    }
  }
}
