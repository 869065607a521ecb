import { setTimeout as sleep } from 'node:timers/promises';
import { Lab, monoMs } from './lab.js';
import type { HolderChange } from './split-brain.js';
import type { RelayStats } from './udp-relay.js';

/**
 * The loss soak (docs/fault-scenarios.md, scenario 21): two nodes and a witness, every voter
 * path through a userspace relay (udp-relay.ts) that drops, duplicates and reorders
 * datagrams for `minutes`, while the split-brain checker samples the VIP every 10 ms. Used
 * by `npm run soak:loss` (bench/soak-loss.ts) and, short, by test/lab/loss-soak.test.ts.
 */

export interface SoakOptions {
  durationMs: number;
  /** Fractions [0, 1] of datagrams on every voter path. */
  loss: number;
  duplicate: number;
  reorder: number;
  /** Delay added to every datagram: fixed + uniform jitter (ms); the jitter reorders too. */
  delayMs: number;
  jitterMs: number;
  timing: string;
  log?: (msg: string) => void;
}

export interface SoakResult {
  durationMs: number;
  /** Periodic samples of the VIP holders, and those that saw two or more holders. */
  samples: number;
  twoHolderSamples: number;
  violations: HolderChange[];
  /** Nodes that acquired the VIP while the faults were on, in order (an owner re-acquiring counts). */
  ownershipChanges: string[];
  /** `lease lost: demoting` lines in the agents' logs while the faults were on. */
  lostLeases: number;
  /** Moments nobody held the VIP while the faults were on. */
  vipGaps: number;
  relays: Record<string, RelayStats>;
}

const RELAYED = ['n1', 'n2', 'w'];

export async function runLossSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? (() => {});
  const lab = await Lab.create({ timing: opts.timing, relays: RELAYED });
  try {
    const checker = lab.watchVip();
    await checker.start();
    await lab.startWitness();
    await lab.startAgent('n1');
    await lab.startAgent('n2');
    await lab.waitFor('the VIP on n1', () => checker.holders().join() === 'n1', 30_000);
    for (const node of lab.nodes)
      await lab.waitFor(`${node} out of quarantine`, async () => !(await lab.status(node)).quarantined);
    const logStart = Object.fromEntries(lab.nodes.map((n) => [n, lab.logs(`agent-${n}`).length]));
    const from = monoMs();
    for (const name of RELAYED)
      await lab.relay(name).set({
        loss: opts.loss,
        duplicate: opts.duplicate,
        reorder: opts.reorder,
        delayMs: opts.delayMs,
        jitterMs: opts.jitterMs,
      });
    log(
      `faults on every voter path: loss ${opts.loss}, duplicate ${opts.duplicate}, reorder ${opts.reorder}, delay ${opts.delayMs}+${opts.jitterMs} ms`,
    );
    const end = from + opts.durationMs;
    while (monoMs() < end) {
      await sleep(Math.min(30_000, Math.max(0, end - monoMs())));
      const r = checker.report();
      log(
        `${((monoMs() - from) / 1000).toFixed(0)} s: holders ${JSON.stringify(checker.holders())}, ${r.samples} samples, ${r.violations.length} with two holders`,
      );
    }
    const until = monoMs();
    const relays: Record<string, RelayStats> = {};
    for (const name of RELAYED) {
      relays[name] = await lab.relay(name).stats();
      await lab.relay(name).set({ loss: 0, duplicate: 0, reorder: 0, delayMs: 0, jitterMs: 0 });
    }
    const report = await checker.stop();
    const during = report.changes.filter((c) => c.t >= from && c.t <= until);
    const ownershipChanges: string[] = [];
    let prev = report.changes.filter((c) => c.t < from).at(-1)?.holders ?? [];
    for (const c of during) {
      for (const h of c.holders) if (!prev.includes(h)) ownershipChanges.push(h);
      prev = c.holders;
    }
    let lostLeases = 0;
    for (const n of lab.nodes)
      lostLeases += lab
        .logs(`agent-${n}`)
        .slice(logStart[n])
        .split('\n')
        .filter((l) => l.includes('lease lost: demoting')).length;
    return {
      durationMs: until - from,
      samples: report.samples,
      twoHolderSamples: report.violations.length,
      violations: report.violations.slice(0, 10),
      ownershipChanges,
      lostLeases,
      vipGaps: during.filter((c) => c.holders.length === 0).length,
      relays,
    };
  } catch (err) {
    log(`logs kept in ${lab.keepLogs()}`);
    throw err;
  } finally {
    await lab.cleanup();
  }
}
