import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { missingTools } from '../lab-kit/exec.js';
import { Lab, type LabOptions, monoMs } from '../lab-kit/lab.js';
import type { ProbeRecord } from '../lab-kit/lab-client.js';
import type { SplitBrainChecker, SplitBrainReport } from '../lab-kit/split-brain.js';
import { needPeer } from '../support/requirements.js';

/**
 * Shared frame of the lab scenario tests: a lab with two agents and a witness, the
 * split-brain checker and the VIP prober running, torn down when the test ends whatever
 * happens. Lab tests need root and the network tools; without them they skip, except under
 * CI=true where they fail (test/support/requirements.ts).
 */

const TOOLS = ['ip', 'nft', 'arping'];

/** What the lab tests lack on this machine, or null when they can run. */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'root (the lab creates network namespaces)';
  const missing = missingTools(TOOLS);
  if (missing.length > 0) return `${missing.join(', ')} (scripts/install-test-deps.sh installs them)`;
  return null;
}

/** Skips the test with the reason (or fails it under CI). Returns true when it must not run. */
export function skipWithoutLab(t: TestContext): boolean {
  const why = labUnavailable();
  return !needPeer(t, why ?? 'nothing', why === null);
}

export interface Scenario {
  lab: Lab;
  checker: SplitBrainChecker;
  /** Who holds the VIP right now (by the checker). */
  holders(): string[];
  /** Waits until exactly `node` holds the VIP. */
  waitHolder(node: string, timeoutMs?: number): Promise<number>;
  /** Downtime: `fault` → first probe answered by `survivor` (ms), or null. */
  downtime(fault: number, survivor: string, timeoutMs?: number): Promise<number | null>;
  probes(since?: number): Promise<ProbeRecord[]>;
  /** Stops the checker and asserts that no event or sample ever saw two holders of the VIP. */
  assertNoSplitBrain(): Promise<SplitBrainReport>;
}

/** Lab + witness + agents (n1 first, so it owns `vip`), settled; probing the VIP every 10 ms. */
export async function startScenario(t: TestContext, opts: LabOptions = {}): Promise<Scenario> {
  const lab = await Lab.create(opts);
  const checker = lab.watchVip();
  t.after(async () => {
    await checker.stop();
    await lab.cleanup();
  });
  try {
    await checker.start();
    if (opts.witness !== false) await lab.startWitness();
    const [first, ...rest] = lab.nodes;
    await lab.startAgent(first!);
    const s: Scenario = {
      lab,
      checker,
      holders: () => checker.holders(),
      async waitHolder(node, timeoutMs = 30_000) {
        // By the checker's samples, so the time returned is the sample that first saw it.
        const change = await lab.waitFor(
          `the VIP on ${node} alone`,
          () => {
            const last = checker.lastChange();
            return last && last.holders.length === 1 && last.holders[0] === node ? last : false;
          },
          timeoutMs,
        );
        return change.t;
      },
      async downtime(fault, survivor, timeoutMs = 10_000) {
        // The survivor may answer only after this is asked: wait for it (bounded). A measurement
        // only (documented exception to "no swallowed errors"): a survivor that never answers shows
        // as "never" in the diagnostics, and every scenario asserts the new owner by assertOwner.
        const answered = await lab
          .waitFor(
            `a probe answered by ${survivor}`,
            async () => (await lab.client.probeRecords(fault)).find((r) => r[1] === survivor),
            timeoutMs,
          )
          .catch(() => undefined);
        return answered ? answered[0] - fault : null;
      },
      probes: (since = 0) => lab.client.probeRecords(since),
      async assertNoSplitBrain() {
        const report = await checker.stop();
        assert.ok(report.samples > 10, 'the checker sampled');
        assert.deepEqual(
          report.violations.slice(0, 5),
          [],
          `the VIP was on two nodes at ${report.violations.length} events or samples`,
        );
        return report;
      },
    };
    // n1 starts first, so it is the first proposer and owns the group (wait-for-all may hold it until all are up).
    for (const node of rest) await lab.startAgent(node);
    await s.waitHolder(first!);
    // Settled: every voter past its restart quarantine, so renewals do not depend on luck.
    for (const node of lab.nodes)
      await lab.waitFor(`${node} out of quarantine`, async () => !(await lab.status(node)).quarantined);
    await lab.client.startProbe(lab.vip, lab.servicePort);
    await lab.waitFor('the client served through the VIP', async () => {
      const recs = await lab.client.probeRecords();
      return recs.some((r) => r[1] === first);
    });
    await sleep(300);
    return s;
  } catch (err) {
    dumpLogs(t, lab, checker);
    throw err;
  }
}

/**
 * Runs a scenario body on a fresh lab; on failure the agents' and witness's log tails are
 * attached to the test output before the lab is removed.
 */
export async function runScenario(
  t: TestContext,
  opts: LabOptions,
  body: (s: Scenario) => Promise<void>,
): Promise<void> {
  if (skipWithoutLab(t)) return;
  const s = await startScenario(t, opts);
  try {
    await body(s);
  } catch (err) {
    dumpLogs(t, s.lab, s.checker);
    throw err;
  }
}

/** The agents' and witness's log tails and the last VIP holders, attached to a failing test. */
function dumpLogs(t: TestContext, lab: Lab, checker: SplitBrainChecker): void {
  for (const name of [...lab.nodes.map((n) => `agent-${n}`), 'witness'])
    t.diagnostic(`--- ${name} (last lines)\n${lab.logs(name).split('\n').slice(-25).join('\n')}`);
  t.diagnostic(`--- all logs kept in ${lab.keepLogs()}`);
  t.diagnostic(`--- VIP holders: ${JSON.stringify(checker.report().changes.slice(-10))}`);
}

/** Ownership changes of the VIP after `since` (holder-set changes that add a node). */
export function acquisitionsSince(report: SplitBrainReport, since: number): string[] {
  const out: string[] = [];
  let prev: string[] = [];
  for (const c of report.changes) {
    if (c.t >= since) for (const h of c.holders) if (!prev.includes(h)) out.push(h);
    prev = c.holders;
  }
  return out;
}

/** Asserts the group runs on exactly `node` by both the agents and the addresses. */
export async function assertOwner(s: Scenario, node: string): Promise<void> {
  await s.waitHolder(node);
  const running = await s.lab.waitFor(`agents agree ${node} runs vip`, async () => {
    const r = await s.lab.runningOn();
    return r.length === 1 && r[0] === node ? r : false;
  });
  assert.deepEqual(running, [node]);
  assert.deepEqual(s.holders(), [node]);
}

export { monoMs };
