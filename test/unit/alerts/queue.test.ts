import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alert } from '../../../src/alerts/alert.js';
import { AlertQueue, backoffDelay, MAX_BACKOFF_MS } from '../../../src/alerts/queue.js';
import { FakeTimers, settle } from '../../support/fake-timers.js';

function alert(sequence: number): Alert {
  return {
    kind: 'resource',
    severity: 'warning',
    task: 'failover',
    node: 'n2',
    rsc: 'web',
    desc: 'OK',
    status: 0,
    rc: 0,
    targetRc: 0,
    at: 0,
    sequence,
    reporter: 'n2',
    cluster: 'c',
    message: `event ${sequence}`,
  };
}

const policy = { queueSize: 3, timeoutMs: 1000, retries: 0, backoffMs: 100 };

test('the back-off doubles after each failed attempt and is capped', () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((a) => backoffDelay(a, 100)),
    [100, 200, 400, 800],
  );
  assert.equal(backoffDelay(30, 1000), MAX_BACKOFF_MS);
});

test('alerts are sent one at a time, in the order they were pushed', async () => {
  const timers = new FakeTimers();
  const sent: number[] = [];
  const q = new AlertQueue(policy, async (a) => void sent.push(a.sequence), timers);
  q.start();
  q.push(alert(1));
  q.push(alert(2));
  await settle();
  assert.deepEqual(sent, [1, 2]);
  assert.equal(q.stats.sent, 2);
  assert.equal(q.state, 'idle');
  await q.stop();
});

test('a full queue drops its oldest waiting alert and counts it, and push never waits for the receiver', async () => {
  const timers = new FakeTimers();
  const sent: number[] = [];
  let release: () => void = () => undefined;
  const q = new AlertQueue(
    { ...policy, timeoutMs: 60_000 },
    (a) =>
      new Promise<void>((resolve) => {
        sent.push(a.sequence);
        release = resolve;
      }),
    timers,
  );
  q.start();
  assert.equal(q.push(alert(1)), true);
  await settle();
  // 1 is in flight; 2, 3, 4 fill the queue; 5 and 6 push out 2 and 3.
  for (const n of [2, 3, 4]) assert.equal(q.push(alert(n)), true);
  assert.equal(q.push(alert(5)), false);
  assert.equal(q.push(alert(6)), false);
  assert.equal(q.stats.dropped, 2);
  assert.equal(q.stats.queued, 3);
  for (let i = 0; i < 4; i++) {
    release();
    await settle();
  }
  assert.deepEqual(sent, [1, 4, 5, 6]);
  await q.stop();
});

test('a failed attempt is retried after 1×, 2×, 4× the back-off, then given up with the last error', async () => {
  const timers = new FakeTimers();
  const attemptsAt: number[] = [];
  const failures: Array<[number, string, number]> = [];
  const q = new AlertQueue(
    { ...policy, retries: 3, backoffMs: 100 },
    async () => {
      attemptsAt.push(timers.now());
      throw new Error(`refused ${attemptsAt.length}`);
    },
    timers,
    { failed: (a, error, attempts) => failures.push([a.sequence, error, attempts]) },
  );
  q.start();
  q.push(alert(7));
  await timers.advance(10_000);
  assert.deepEqual(attemptsAt, [0, 100, 300, 700]);
  assert.deepEqual(failures, [[7, 'refused 4', 4]]);
  assert.equal(q.stats.failed, 1);
  assert.equal(q.stats.lastError, 'refused 4');
  await q.stop();
});

test('a retry that succeeds counts as sent, not failed', async () => {
  const timers = new FakeTimers();
  let calls = 0;
  const sent: number[] = [];
  const q = new AlertQueue(
    { ...policy, retries: 2 },
    async () => {
      if (++calls === 1) throw new Error('500');
    },
    timers,
    { sent: (_a, attempts) => sent.push(attempts) },
  );
  q.start();
  q.push(alert(1));
  await timers.advance(1000);
  assert.deepEqual(sent, [2]);
  assert.equal(q.stats.failed, 0);
  await q.stop();
});

test('an error marked retryable: false is not retried', async () => {
  const timers = new FakeTimers();
  let calls = 0;
  const failures: number[] = [];
  const q = new AlertQueue(
    { ...policy, retries: 5 },
    async () => {
      calls++;
      throw Object.assign(new Error('404'), { retryable: false });
    },
    timers,
    { failed: (_a, _e, attempts) => failures.push(attempts) },
  );
  q.start();
  q.push(alert(1));
  await timers.advance(60_000);
  assert.equal(calls, 1);
  assert.deepEqual(failures, [1]);
  await q.stop();
});

test('a receiver that never answers is given up at the timeout and the next alert goes out', async () => {
  const timers = new FakeTimers();
  const seen: number[] = [];
  const errors: string[] = [];
  const aborted: boolean[] = [];
  const q = new AlertQueue(
    { ...policy, timeoutMs: 500 },
    (a, signal) => {
      seen.push(a.sequence);
      if (a.sequence === 1) {
        signal.addEventListener('abort', () => aborted.push(true));
        return new Promise<void>(() => undefined); // a black hole, ignoring the signal
      }
      return Promise.resolve();
    },
    timers,
    { failed: (_a, e) => errors.push(e) },
  );
  q.start();
  q.push(alert(1));
  q.push(alert(2));
  await timers.advance(499);
  assert.deepEqual(seen, [1]);
  await timers.advance(1);
  assert.deepEqual(seen, [1, 2]);
  assert.deepEqual(errors, ['timed out after 500ms']);
  assert.deepEqual(aborted, [true]);
  assert.equal(q.stats.sent, 1);
  await q.stop();
});

test('stop() ends a back-off wait at once and later pushes are ignored', async () => {
  const timers = new FakeTimers();
  const failures: number[] = [];
  const q = new AlertQueue(
    { ...policy, retries: 5, backoffMs: 10_000 },
    async () => {
      throw new Error('down');
    },
    timers,
    { failed: () => failures.push(1) },
  );
  q.start();
  q.push(alert(1));
  await settle();
  await q.stop();
  assert.equal(q.state, 'stopped');
  q.push(alert(2));
  assert.equal(q.stats.queued, 0);
  assert.deepEqual(failures, [], 'a stop is not a delivery failure');
});
