import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLossSoak } from '../lab-kit/loss-soak.js';
import { skipWithoutLab } from './support.js';

/**
 * Scenario 19, short: 20 s of 10 % loss, 10 % duplication, 10 % reordering and 2–12 ms of
 * delay on every voter path (userspace relays, test/lab-kit/udp-relay.ts), `fast` profile.
 * The 10-minute run is `npm run soak:loss -- --minutes 10` (docs/benchmarks.md).
 */

test('scenario 19 (short soak): 20 s of loss, duplication and reordering on every voter path never give two holders', async (t) => {
  if (skipWithoutLab(t)) return;
  const r = await runLossSoak({
    durationMs: 20_000,
    loss: 0.1,
    duplicate: 0.1,
    reorder: 0.1,
    delayMs: 2,
    jitterMs: 10,
    timing: 'fast',
    log: (msg) => t.diagnostic(msg),
  });
  t.diagnostic(
    `ownership changes ${JSON.stringify(r.ownershipChanges)}, lost leases ${r.lostLeases}, VIP gaps ${r.vipGaps}, relays ${JSON.stringify(r.relays)}`,
  );
  // The faults really happened: every relay carried traffic and dropped, duplicated and reordered some.
  for (const [name, st] of Object.entries(r.relays)) {
    assert.ok(st.received > 100, `${name}'s datagrams went through its relay`);
    assert.ok(
      st.dropped > 0 && st.duplicated > 0 && st.reordered > 0,
      `${name}'s relay injected every fault`,
    );
  }
  assert.ok(r.samples > 1000, 'the checker sampled throughout');
  assert.deepEqual(r.violations, [], `two holders at ${r.twoHolderSamples} events or samples`);
});
