import { openSync, readSync } from 'node:fs';
import type { Clock } from '../util/clock.js';
import { RHO } from './timing.js';

/**
 * Pause and clock sanity: leases assume clocks advance at nearly the same rate. Reports anomalies; the
 * coordinator decides (it drops every lease and enters quarantine).
 * - suspend: CLOCK_BOOTTIME (/proc/uptime) advanced more than CLOCK_MONOTONIC between ticks,
 *   i.e. the machine slept and monotonic time did not count it;
 * - pause: this process did not run for much longer than a tick (SIGSTOP, frozen cgroup);
 * - drift: a peer's send timestamps advance at a rate that differs from ours by more than
 *   10·ρ over the window (frozen VM, broken clock).
 *
 * Drift is read from the one-way offset `local − sentAt` of every frame, which is the clock
 * difference plus the network delay. Delay only ever adds, so the minimum offset over a stretch
 * of time is close to the clock difference if that stretch holds some frames that were not held
 * up. A drift verdict therefore needs evidence that holds up against held-up frames:
 * - samples spread over the whole window, no silence longer than an eighth of it: after a
 *   partition heals, the frames that were queued during it arrive in a burst with old send
 *   times, and on their own they look exactly like a clock that fell behind; a window with a
 *   hole in it may have no clean samples near the hole to compare them with, so it gives no
 *   verdict until the hole has left the window (samples are kept for two windows);
 * - the same rate in both halves of the window: a real rate error moves the offset steadily,
 *   while a delay that sets in (or clears) at one moment moves it once, in one half only.
 */
export type ClockAnomaly =
  | { kind: 'suspend'; gapMs: number }
  | { kind: 'pause'; gapMs: number }
  | { kind: 'drift'; peer: string; rate: number; windowMs: number };

export interface ClockSanityOptions {
  clock: Clock;
  /** CLOCK_BOOTTIME in ms; default reads /proc/uptime (null when unavailable). */
  readUptimeMs?: () => number | null;
  /** Boottime minus monotonic gap that counts as a suspend. Default 100 ms (/proc/uptime has 10 ms steps). */
  suspendThresholdMs?: number;
  /** Expected interval between `tick()` calls; with `pauseThresholdMs`, enables pause detection. */
  tickMs?: number;
  pauseThresholdMs?: number;
  /** Span of peer samples a drift verdict needs. Default 10 s. */
  driftWindowMs?: number;
  /** Default 10·ρ. */
  maxRateError?: number;
}

export interface DriftSample {
  /** Local monotonic ms when the frame arrived. */
  local: number;
  /** local − sentAt: the clock difference plus the frame's delay. */
  offset: number;
}

/**
 * /proc/uptime stays open: the coordinator reads it twice per clock check, up to a hundred times a
 * second, and one pread at offset 0 (the kernel renders it afresh) costs a third of an
 * open + fstat + read + close. Unreadable (no /proc): null, and it is not tried again.
 */
let uptimeFd: number | null | undefined;
const uptimeBuf = Buffer.alloc(64);

export function readProcUptimeMs(): number | null {
  if (uptimeFd === null) return null;
  try {
    uptimeFd ??= openSync('/proc/uptime', 'r');
    const n = readSync(uptimeFd, uptimeBuf, 0, uptimeBuf.length, 0);
    const text = uptimeBuf.toString('latin1', 0, n);
    const seconds = Number(text.slice(0, text.indexOf(' ')));
    return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null;
  } catch {
    uptimeFd = null;
    return null;
  }
}

const MAX_SAMPLES = 512;
/** Two boot-time reads around one monotonic read further apart than this are not used (/proc/uptime has 10 ms steps). */
const UPTIME_READ_SLACK_MS = 20;
/** The window is cut into this many equal parts; each must hold a sample. */
const PARTS = 8;

export class ClockSanity {
  private readonly opts: ClockSanityOptions;
  private last: { mono: number; uptime: number | null } | null = null;
  private readonly peers = new Map<string, { bootId: string; samples: DriftSample[] }>();

  constructor(opts: ClockSanityOptions) {
    this.opts = opts;
  }

  /** Call once per coordinator tick. */
  tick(): ClockAnomaly[] {
    const readUptime = this.opts.readUptimeMs ?? readProcUptimeMs;
    // Boot time is read on both sides of the monotonic clock: a process descheduled between two
    // reads (a loaded machine) would otherwise see boot time run ahead, like after a suspend.
    const before = readUptime();
    const mono = this.opts.clock.now();
    const after = readUptime();
    const uptime =
      before !== null && after !== null && after - before <= UPTIME_READ_SLACK_MS ? before : null;
    const anomalies: ClockAnomaly[] = [];
    const last = this.last;
    this.last = { mono, uptime };
    if (last === null) return anomalies;
    const monoDelta = mono - last.mono;
    if (uptime !== null && last.uptime !== null) {
      const gap = uptime - last.uptime - monoDelta;
      if (gap > (this.opts.suspendThresholdMs ?? 100))
        anomalies.push({ kind: 'suspend', gapMs: Math.round(gap) });
    }
    if (this.opts.tickMs !== undefined && this.opts.pauseThresholdMs !== undefined) {
      const late = monoDelta - this.opts.tickMs;
      if (late > this.opts.pauseThresholdMs) anomalies.push({ kind: 'pause', gapMs: Math.round(late) });
    }
    if (anomalies.length > 0) {
      // Samples straddling a suspend or pause would read as drift.
      this.peers.clear();
    }
    return anomalies;
  }

  /** Feed every authenticated frame's (from, bootId, sentAt); returns a drift anomaly if any. */
  observePeer(peer: string, bootId: string, sentAt: number): ClockAnomaly | null {
    const local = this.opts.clock.now();
    let state = this.peers.get(peer);
    if (state === undefined || state.bootId !== bootId) {
      // A restarted peer (or one after reboot) has an unrelated monotonic origin.
      state = { bootId, samples: [] };
      this.peers.set(peer, state);
    }
    const windowMs = this.opts.driftWindowMs ?? 10_000;
    const samples = state.samples;
    samples.push({ local, offset: local - sentAt });
    while (samples.length > MAX_SAMPLES || (samples.length > 0 && local - samples[0]!.local > 2 * windowMs)) {
      samples.shift();
    }
    const first = samples[0];
    if (first === undefined || local - first.local < windowMs) return null;
    const verdict = driftVerdict(samples, local, this.opts.maxRateError ?? 10 * RHO);
    if (verdict === null) return null;
    state.samples = [];
    return { kind: 'drift', peer, ...verdict };
  }
}

/**
 * The peer's clock rate relative to ours over `samples` (oldest first, up to `now`), when it
 * is off by more than `maxRateError` and the samples make a trustworthy case (see the top of
 * this file); otherwise null. Pure.
 */
export function driftVerdict(
  samples: readonly DriftSample[],
  now: number,
  maxRateError: number,
): { rate: number; windowMs: number } | null {
  const start = samples[0]?.local;
  if (start === undefined || now <= start) return null;
  const width = (now - start) / PARTS;
  const lowest: Array<DriftSample | undefined> = new Array(PARTS);
  let previous = start;
  for (const s of samples) {
    if (s.local - previous > width) return null; // a silence: not spread over the window
    previous = s.local;
    const i = Math.min(PARTS - 1, Math.floor((s.local - start) / width));
    const best = lowest[i];
    if (best === undefined || s.offset < best.offset) lowest[i] = s;
  }
  const parts: DriftSample[] = [];
  for (const s of lowest) {
    if (s === undefined) return null;
    parts.push(s);
  }
  const early = lower(parts[0]!, parts[1]!);
  const middle = lower(parts[3]!, parts[4]!);
  const late = lower(parts[6]!, parts[7]!);
  const whole = rateBetween(early, late);
  const off = whole - 1;
  if (Math.abs(off) <= maxRateError) return null;
  for (const half of [rateBetween(early, middle), rateBetween(middle, late)]) {
    // A step moves one half only; a rate error moves both the same way.
    if (Math.sign(half - 1) !== Math.sign(off) || Math.abs(half - 1) <= maxRateError) return null;
  }
  return { rate: whole, windowMs: Math.round(late.local - early.local) };
}

function lower(a: DriftSample, b: DriftSample): DriftSample {
  return b.offset < a.offset ? b : a;
}

function rateBetween(a: DriftSample, b: DriftSample): number {
  return 1 - (b.offset - a.offset) / (b.local - a.local);
}
