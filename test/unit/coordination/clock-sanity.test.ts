import assert from 'node:assert/strict';
import { uptime } from 'node:os';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClockAnomaly, ClockSanity, readProcUptimeMs } from '../../../src/coordination/clock-sanity.js';

/**
 * Drift detection against the frames a partition leaves behind. A fake clock stands for this
 * node's monotonic time; `frame(sentAt, arriveAt)` is one frame of peer n1 sent at the peer's
 * time `sentAt` and handed to ClockSanity at our time `arriveAt`.
 */

function harness(windowMs = 10_000) {
  const clock = { t: 0, now: () => clock.t };
  const sanity = new ClockSanity({ clock, readUptimeMs: () => null, driftWindowMs: windowMs });
  const verdicts: Array<{ at: number; anomaly: ClockAnomaly }> = [];
  let seed = 11;
  return {
    verdicts,
    /** 1–6 ms of ordinary network delay, deterministic. */
    jitter(): number {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + (seed / 2 ** 31) * 5;
    },
    frame(sentAt: number, arriveAt: number): void {
      assert.ok(arriveAt >= clock.t, 'frames are fed in arrival order');
      clock.t = arriveAt;
      const anomaly = sanity.observePeer('n1', 'boot-1', sentAt);
      if (anomaly) verdicts.push({ at: arriveAt, anomaly });
    },
  };
}

/** The peer's clock: its origin is far from ours, and it runs at `rate` times our speed. */
const peerTime = (local: number, rate = 1) => 987_654 + local * rate;

describe('clock drift after a partition heals', () => {
  it('does not flag a gap followed by a burst of frames that were queued during the partition', () => {
    const h = harness();
    // 8 s of frames every 50 ms, then the link is down from 8 s to 11.5 s.
    for (let t = 0; t < 8000; t += 50) h.frame(peerTime(t), t + h.jitter());
    // At the heal the frames of the last second of the partition were held in a queue: for
    // the first 0.7 s every frame that arrives is about a second old.
    for (let t = 10_500; t < 11_200; t += 10) h.frame(peerTime(t), t + 1000);
    // Then the queue is drained and frames flow normally again for 30 s.
    for (let t = 12_200; t < 42_000; t += 50) h.frame(peerTime(t), t + h.jitter());
    assert.deepEqual(h.verdicts, [], 'one clock, no drift');
  });

  it('does not flag a network delay that sets in at one moment and stays', () => {
    const h = harness();
    for (let t = 0; t < 15_000; t += 50) h.frame(peerTime(t), t + h.jitter());
    // From 15 s on every frame takes 300 ms longer (a slow path after a re-route).
    for (let t = 15_000; t < 60_000; t += 50) h.frame(peerTime(t), t + 300 + h.jitter());
    assert.deepEqual(h.verdicts, []);
  });

  it('does not flag a delay that clears at one moment', () => {
    const h = harness();
    for (let t = 0; t < 15_000; t += 50) h.frame(peerTime(t), t + 300 + h.jitter());
    // Frames sent from 15.3 s on arrive at once (the earlier ones are still arriving until then).
    for (let t = 15_300; t < 60_000; t += 50) h.frame(peerTime(t), t + h.jitter());
    assert.deepEqual(h.verdicts, []);
  });

  it('flags a peer whose clock runs 3 % slow', () => {
    const h = harness();
    for (let t = 0; t < 30_000 && h.verdicts.length === 0; t += 50)
      h.frame(peerTime(t, 0.97), t + h.jitter());
    const v = h.verdicts[0];
    assert.ok(v !== undefined && v.anomaly.kind === 'drift', 'drift flagged');
    assert.ok(v.anomaly.kind === 'drift' && Math.abs(v.anomaly.rate - 0.97) < 0.005, JSON.stringify(v));
    assert.ok(v.at >= 10_000, 'not before a whole window of samples');
  });

  it('still flags real drift that goes on across a partition, once samples cover the window again', () => {
    const h = harness();
    for (let t = 0; t < 8000; t += 50) h.frame(peerTime(t, 1.02), t + h.jitter());
    for (let t = 10_500; t < 11_200; t += 10) h.frame(peerTime(t, 1.02), t + 1000);
    for (let t = 12_200; t < 60_000 && h.verdicts.length === 0; t += 50)
      h.frame(peerTime(t, 1.02), t + h.jitter());
    const v = h.verdicts[0];
    assert.ok(v !== undefined && v.anomaly.kind === 'drift', 'drift flagged after the heal');
    assert.ok(v.anomaly.kind === 'drift' && Math.abs(v.anomaly.rate - 1.02) < 0.005, JSON.stringify(v));
  });

  it('gives no verdict while the samples have a hole, even when they show drift', () => {
    const h = harness();
    // 5 % fast, but silent from 3 s to 7 s: the window [0, 10 s] has empty eighths.
    for (let t = 0; t < 3000; t += 50) h.frame(peerTime(t, 1.05), t + h.jitter());
    for (let t = 7000; t <= 10_500; t += 50) h.frame(peerTime(t, 1.05), t + h.jitter());
    assert.deepEqual(h.verdicts, []);
  });
});

describe('suspend detection on a loaded machine', () => {
  it('does not take a process descheduled between its clock reads for a suspend', () => {
    const clock = { t: 0, now: () => clock.t };
    let uptime = 50_000;
    // The next boot-time read comes this much later than the monotonic read it brackets.
    let stall = 0;
    let reads = 0;
    const sanity = new ClockSanity({
      clock,
      readUptimeMs: () => {
        reads++;
        if (reads % 2 === 0) return uptime + stall; // the read after the monotonic one
        return uptime;
      },
    });
    assert.deepEqual(sanity.tick(), []);
    for (let i = 1; i <= 20; i++) {
      clock.t += 20;
      uptime += 20;
      stall = i % 3 === 0 ? 300 : 0; // descheduled for 300 ms right after reading the clock
      assert.deepEqual(sanity.tick(), [], `tick ${i}`);
      if (stall > 0) {
        // The stall was real time: both clocks moved on by it before the next tick.
        clock.t += stall;
        uptime += stall;
      }
    }
    clock.t += 20;
    uptime += 20 + 30_000;
    stall = 0;
    assert.deepEqual(sanity.tick(), [{ kind: 'suspend', gapMs: 30_000 }], 'a real suspend is still seen');
  });
});

describe('readProcUptimeMs', () => {
  it('reads boot time afresh on every call from the file it keeps open', async () => {
    const first = readProcUptimeMs();
    assert.ok(first !== null, '/proc/uptime is readable here');
    assert.ok(Math.abs(first - uptime() * 1000) < 2000, `${first} ms is the machine's uptime`);
    await sleep(120);
    const second = readProcUptimeMs();
    assert.ok(second !== null && second - first >= 100, `advanced ${second! - first} ms in 120 ms`);
  });
});
