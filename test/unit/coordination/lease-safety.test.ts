import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TimingProfileName } from '../../../src/config/model.js';
import { runSchedule } from '../../sim/schedules.js';

/**
 * Randomised safety and liveness of the PaxosLease core in the deterministic simulator
 * (test/sim/). Each seed is one schedule: cold start, overlapping faults (partitions incl.
 * one-way, loss, duplication, delay spikes up to 3·D, crash/restart, pause, planned release,
 * withdrawn candidacy, clock rates within 1 ± ρ), heal. Checked per schedule:
 * (a) never two nodes active with overlapping windows in true time; terms of successive
 *     acquisitions strictly increase; an extension keeps the term;
 * (b) after the heal (and the last pre-heal message), exactly one owner within 2·D + 4·R.
 *
 * More seeds: HALO_SIM_SCHEDULES=200000 HALO_SIM_FIRST_SEED=1000000 node --test <this file>.
 */

const REPLAY = fileURLToPath(new URL('../../sim/replay.js', import.meta.url));
const FIRST_SEED = Number(process.env.HALO_SIM_FIRST_SEED ?? 1);
const FAST_SCHEDULES = Number(process.env.HALO_SIM_SCHEDULES ?? 10_000);

function check(profile: TimingProfileName, count: number, firstSeed: number): void {
  const failed: string[] = [];
  let acquisitions = 0;
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    const r = runSchedule(seed, { profile });
    acquisitions += r.acquisitions;
    if (r.failures.length > 0 && failed.length < 5) {
      failed.push(
        `seed ${seed}: ${r.failures.slice(0, 3).join('; ')}\n` +
          `  replay: node ${REPLAY} --seed ${seed} --profile ${profile} --verbose`,
      );
    }
  }
  assert.deepEqual(failed, [], `schedules failed (first ${failed.length} shown):\n${failed.join('\n')}`);
  // The schedules must actually exercise hand-overs, or the check above proves nothing.
  assert.ok(acquisitions > count, `only ${acquisitions} acquisitions in ${count} schedules`);
}

describe('PaxosLease core under random fault schedules', () => {
  it(`never has two owners and always converges to one, over ${FAST_SCHEDULES} fast-profile schedules`, () => {
    check('fast', FAST_SCHEDULES, FIRST_SEED);
  });

  it('holds the same guarantees with the default and relaxed profiles', () => {
    check('default', 300, FIRST_SEED + 50_000);
    check('relaxed', 150, FIRST_SEED + 60_000);
  });

  it('replays a schedule identically from its seed', () => {
    const a = runSchedule(4242, { profile: 'fast', trace: true });
    const b = runSchedule(4242, { profile: 'fast', trace: true });
    assert.deepEqual(a.trace, b.trace);
    assert.ok(a.trace.length > 0);
  });
});
