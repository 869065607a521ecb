import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquisitionsSince, assertOwner, monoMs, runScenario } from './support.js';

/**
 * Fault scenarios 18 and 20 (docs/fault-scenarios.md): per-datagram delay on one node's
 * outgoing voter paths, `fast` profile (lease D = 500 ms, renewal every 75 ms, demote point
 * ≈ 340 ms after a round's PROPOSE). This kernel has no netem qdisc: the delay is a
 * userspace relay in the node's namespace (test/lab-kit/udp-relay.ts) that every datagram
 * the agent sends to the other voters goes through. The split-brain checker fails each test
 * on any event or sample with the VIP on two nodes.
 */

test('scenario 18: delay on the owner link — 100–150 ms (0.2–0.3·D) changes nothing; 1.5 s (3·D) hands the group to n2 safely', (t) =>
  runScenario(t, { relays: ['n1'] }, async (s) => {
    const relay = s.lab.relay('n1');
    const before = await relay.stats();
    const small = monoMs();
    await relay.set({ delayMs: 100, jitterMs: 50 });
    await sleep(3000);
    await relay.set({ delayMs: 0, jitterMs: 0 });
    const during = await relay.stats();
    t.diagnostic(`datagrams n1 sent through the relay in 3 s: ${during.forwarded - before.forwarded}`);
    assert.ok(during.forwarded - before.forwarded > 20, "n1's renewals went through the relay");
    await sleep(500);
    assert.deepEqual(s.holders(), ['n1']);
    assert.deepEqual(acquisitionsSince(s.checker.report(), small), [], 'no false failover below the margins');

    // 3·D: every round n1 starts gets its majority long after its demote point, so it demotes;
    // n2 acquires once n1's lease has run out at the acceptors, and n1 cannot win one back.
    const big = await relay.set({ delayMs: 1500 }).then(monoMs);
    const held = await s.waitHolder('n2', 20_000);
    const dropped = s.checker.report().changes.find((c) => c.t >= big && c.holders.length === 0)?.t;
    t.diagnostic(
      `n1 dropped the VIP ${dropped === undefined ? '?' : (dropped - big).toFixed(0)} ms after the delay began; n2 held it after ${(held - big).toFixed(0)} ms`,
    );
    await sleep(2000);
    await relay.set({ delayMs: 0 });
    // Datagrams still queued in the relay arrive up to 1.5 s late: stale rounds of n1's.
    await sleep(2500);
    await assertOwner(s, 'n2');
    const report = await s.assertNoSplitBrain();
    assert.deepEqual(
      acquisitionsSince(report, big),
      ['n2'],
      'one ownership change, none after the delay ended',
    );
  }));

test('scenario 20: the standby’s PROPOSE path delayed 3·D — with the owner isolated nobody acquires until the delay ends, then n2 once', (t) =>
  runScenario(t, { relays: ['n2'] }, async (s) => {
    const relay = s.lab.relay('n2');
    await relay.set({ delayMs: 1500 });
    // n1 keeps its lease with the witness alone (n2's answers arrive late, the witness's do not).
    await sleep(1000);
    assert.deepEqual(s.holders(), ['n1'], 'a slow standby does not cost the owner its lease');
    const fault = await s.lab.isolate('n1');
    await s.lab.waitFor('n1 to drop the VIP', () => s.holders().length === 0, 5000);
    // n2's PREPAREs and PROPOSEs reach the witness 1.5 s late: every majority it gets arrives
    // after that round's demote point, so no round may count as acquired.
    await sleep(4000);
    const stats = await relay.stats();
    t.diagnostic(`datagrams n2 sent through the relay: ${stats.forwarded}`);
    assert.deepEqual(
      s.holders(),
      [],
      'no acquisition from rounds whose majority came after their demote point',
    );
    const cleared = await relay.set({ delayMs: 0 }).then(monoMs);
    const held = await s.waitHolder('n2', 20_000);
    t.diagnostic(`n2 held the VIP ${(held - cleared).toFixed(0)} ms after the delay ended`);
    // The late datagrams of abandoned ballots keep arriving for 1.5 s; then the heal.
    await sleep(2000);
    await s.lab.heal();
    await sleep(1500);
    await assertOwner(s, 'n2');
    const report = await s.assertNoSplitBrain();
    assert.deepEqual(acquisitionsSince(report, fault), ['n2']);
  }));
