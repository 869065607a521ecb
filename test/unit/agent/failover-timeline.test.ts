import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeTimelines } from '../../../src/agent/status.js';
import type { Timeline, TimelinePhase } from '../../../src/engine/event-log.js';

const T0 = Date.parse('2026-11-21T10:00:00.000Z');

/** A half as a node's TimelineRecorder writes it: phases at wall offsets from T0. */
function half(node: string, reason: string, phases: Array<[TimelinePhase, number]>): Timeline {
  const first = phases[0]![1];
  return {
    group: 'web',
    node,
    reason,
    steps: phases.map(([phase, ms], i) => ({
      phase,
      at: new Date(T0 + ms).toISOString(),
      sinceStartMs: ms - first,
      durationMs: i === 0 ? 0 : ms - phases[i - 1]![1],
    })),
    totalMs: phases.at(-1)![1] - first,
  };
}

const oldHalf = half('n1', 'monitor web/alive failed', [
  ['detected', 0],
  ['decided', 5],
  ['stopped', 40],
]);
const newHalf = half('n2', 'lease granted', [
  ['lease-granted', 52],
  ['started', 90],
  ['healthy', 130],
]);

test('the old and the new owner halves merge into one failover ordered by time', () => {
  const f = mergeTimelines([newHalf, oldHalf]);
  assert.ok(f);
  assert.equal(f.from, 'n1');
  assert.equal(f.to, 'n2');
  assert.equal(f.reason, 'monitor web/alive failed');
  assert.deepEqual(
    f.steps.map((s) => [s.phase, s.node, s.durationMs, s.sinceStartMs]),
    [
      ['detected', 'n1', 0, 0],
      ['decided', 'n1', 5, 5],
      ['stopped', 'n1', 35, 40],
      ['lease-granted', 'n2', 12, 52],
      ['started', 'n2', 38, 90],
      ['healthy', 'n2', 40, 130],
    ],
  );
  assert.equal(f.totalMs, 130);
  assert.equal(f.complete, true);
});

test('when the old owner died only the new half is shown, and it is complete', () => {
  const f = mergeTimelines([newHalf]);
  assert.equal(f?.from, null);
  assert.equal(f?.to, 'n2');
  assert.equal(f?.complete, true);
});

test('a move still in progress (old half only) is not complete', () => {
  const f = mergeTimelines([oldHalf]);
  assert.equal(f?.to, null);
  assert.equal(f?.complete, false);
});

test('a half from long before belongs to another failover and is left out', () => {
  const stale = half('n1', 'old move', [
    ['decided', -600_000],
    ['stopped', -599_000],
  ]);
  const f = mergeTimelines([stale, newHalf]);
  assert.equal(f?.from, null);
  assert.deepEqual(
    f?.steps.map((s) => s.phase),
    ['lease-granted', 'started', 'healthy'],
  );
});

test('wall-clock skew between nodes never yields a negative duration', () => {
  const early = half('n2', 'lease granted', [
    ['lease-granted', 30],
    ['started', 60],
    ['healthy', 70],
  ]);
  // n2's clock is 22 ms behind: by the wall clocks it was granted the lease before n1 had
  // stopped. The steps stay in wall-clock order and every gap across nodes is measured
  // forwards, so durations add up to the total and none is negative.
  const f = mergeTimelines([oldHalf, early]);
  assert.ok(f);
  assert.deepEqual(
    f.steps.map((s) => [s.phase, s.node, s.durationMs, s.sinceStartMs]),
    [
      ['detected', 'n1', 0, 0],
      ['decided', 'n1', 5, 5],
      ['lease-granted', 'n2', 25, 30],
      ['stopped', 'n1', 10, 40],
      ['started', 'n2', 20, 60],
      ['healthy', 'n2', 10, 70],
    ],
  );
  assert.equal(f.totalMs, 70);
  for (const s of f.steps) assert.ok(s.durationMs >= 0, `${s.phase} ${s.durationMs}`);
});

test('no halves, no failover', () => {
  assert.equal(mergeTimelines([]), null);
});
