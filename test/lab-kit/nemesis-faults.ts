import { type Lab, monoMs } from './lab.js';

/**
 * The nemesis's fault catalogue: one fault per round, drawn uniformly, each with a random
 * duration. `inject()` and `heal()` return the monotonic ms at which they acted. Faults that
 * name no target hit the current owner (the interesting case). Fault scenarios they stand
 * for (docs/fault-scenarios.md): kill 1, crash 2, sigstop 12, isolate-owner 4,
 * isolate-standby 5, partition-nodes 7, witness-restart 9, one-way-drop 8, loss 19 (loss
 * alone: without the netem qdisc there is no duplication or reordering).
 */

export const FAULT_KINDS = [
  'kill',
  'crash',
  'sigstop',
  'isolate-owner',
  'isolate-standby',
  'partition-nodes',
  'witness-restart',
  'one-way-drop',
  'loss',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface NemesisFault {
  kind: FaultKind;
  /** Target and parameters, for the log. */
  detail: string;
  /** How long to leave the fault in place before healing it. */
  holdMs: number;
  inject(): Promise<number>;
  heal(): Promise<number>;
}

export interface FaultHooks {
  /** Restarts the node's write store (a crashed node's service comes back with it). */
  restartStore(node: string): Promise<void>;
}

/** Loss at each end of every voter's link: 1 − 0.84² ≈ 30 % on every path between voters. */
const LOSS_PER_END = 16;

export function pickFault(
  lab: Lab,
  random: () => number,
  owner: string,
  hooks: FaultHooks,
  kinds: readonly FaultKind[] = FAULT_KINDS,
): NemesisFault {
  const kind = kinds[Math.floor(random() * kinds.length)] ?? 'kill';
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
  const holdMs = kind === 'sigstop' ? between(500, 2000) : between(500, 4000);
  const standby = lab.nodes.find((n) => n !== owner) ?? owner;
  const healNet = () => lab.heal();
  switch (kind) {
    case 'kill':
      return {
        kind,
        detail: `kill -9 agent ${owner}`,
        holdMs,
        inject: () => lab.signal(owner, 'SIGKILL'),
        heal: async () => {
          const t = monoMs();
          await lab.startAgent(owner);
          return t;
        },
      };
    case 'crash':
      return {
        kind,
        detail: `power loss ${owner}`,
        holdMs,
        inject: () => lab.crashNode(owner),
        heal: async () => {
          const t = monoMs();
          await lab.powerOn(owner);
          await hooks.restartStore(owner);
          await lab.startAgent(owner);
          return t;
        },
      };
    case 'sigstop':
      return {
        kind,
        detail: `SIGSTOP agent ${owner}`,
        holdMs,
        inject: () => lab.signal(owner, 'SIGSTOP'),
        heal: () => lab.signal(owner, 'SIGCONT'),
      };
    case 'isolate-owner':
      return { kind, detail: `isolate ${owner}`, holdMs, inject: () => lab.isolate(owner), heal: healNet };
    case 'isolate-standby':
      return {
        kind,
        detail: `isolate ${standby}`,
        holdMs,
        inject: () => lab.isolate(standby),
        heal: healNet,
      };
    case 'partition-nodes':
      return {
        kind,
        detail: `${owner} | ${standby}, both see w`,
        holdMs,
        inject: () => lab.partition([owner], [standby]),
        heal: healNet,
      };
    case 'witness-restart':
      return {
        kind,
        detail: 'kill -9 witness, restart',
        holdMs,
        inject: () => lab.signal('w', 'SIGKILL'),
        heal: async () => {
          const t = monoMs();
          await lab.startWitness();
          return t;
        },
      };
    case 'one-way-drop': {
      const voters = [...lab.nodes, 'w'];
      const from = voters[Math.floor(random() * voters.length)]!;
      const rest = voters.filter((v) => v !== from);
      const to = rest[Math.floor(random() * rest.length)]!;
      return {
        kind,
        detail: `drop ${from}→${to}`,
        holdMs,
        inject: () => lab.dropOneWay(from, to),
        heal: healNet,
      };
    }
    case 'loss':
      return {
        kind,
        detail: `${LOSS_PER_END} % at each end of every voter link (≈30 % per path)`,
        holdMs,
        inject: async () => {
          const t = monoMs();
          for (const v of [...lab.nodes, 'w']) await lab.loss(v, LOSS_PER_END);
          return t;
        },
        heal: healNet,
      };
  }
}
