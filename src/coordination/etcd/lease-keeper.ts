import { type Etcd3, EtcdLeaseInvalidError, type Lease } from 'etcd3';
import type { Logger } from '../../log.js';
import { monotonicTimers, type TimerClock } from '../../util/clock.js';
import type { EtcdTiming } from './etcd-timing.js';
import { keepaliveAnyMember } from './keepalive-fanout.js';

/**
 * This agent's one etcd lease: granted, then renewed by us with a keepalive every
 * `keepaliveMs` — not with the library's automatic keepalive or its `lost` event, whose timing
 * we cannot bound. `validUntil` only moves forward on a keepalive etcd answered, and is
 * computed from the moment that keepalive was *sent*.
 *
 * Keepalives do not wait for each other: one leaves every period even while earlier ones are
 * unanswered (each gives up after `callTimeoutMs`, so at most a handful are in flight). During
 * a leader election every member holds the keepalives it got until it knows the new leader;
 * the last one sent before the election ended is then answered and counts from its send time,
 * so the owner loses at most one keepalive period to the election (etcd-timing.ts).
 *
 * Each keepalive goes to every member at once (`memberClients`, one client per endpoint) and
 * the first answer counts: a member forwards it to the leader, so whichever live member is
 * reached first renews the lease. Sent through the pooled client alone, a keepalive waits out
 * its whole deadline whenever the pool picks a member that just died.
 *
 * `poison()` gives a lease up without revoking it: its keys stay until etcd expires them,
 * which is what a demoted owner needs (its resources may still be stopping), and a fresh
 * lease is granted for whatever comes next.
 */

export interface HeldLease {
  id: string;
  /** Monotonic ms: the lease is ours until then, whatever etcd does. */
  validUntil: number;
}

export type LeaseKeeperEvent =
  | { type: 'granted'; lease: HeldLease }
  | { type: 'renewed'; lease: HeldLease }
  /** etcd says the lease no longer exists (expired or revoked). */
  | { type: 'lost'; id: string };

export interface LeaseKeeperOptions {
  client: Etcd3;
  /** One client per etcd endpoint, for keepalives (default: the pooled client alone). */
  memberClients?: readonly Etcd3[];
  timing: EtcdTiming;
  /** Time and the pauses between calls (tests drive it with a fake). */
  clock: TimerClock;
  log: Logger;
  onEvent: (e: LeaseKeeperEvent) => void;
}

/** Pause after a failed call before the next attempt (etcd down: do not spin). */
const RETRY_MS = 100;

export class LeaseKeeper {
  private readonly opts: LeaseKeeperOptions;
  private lease: Lease | undefined;
  private held: HeldLease | undefined;
  private lastSend = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake = new AbortController();

  constructor(opts: LeaseKeeperOptions) {
    this.opts = opts;
  }

  /** The current lease if it is still valid locally. */
  current(): HeldLease | undefined {
    const h = this.held;
    return h && h.validUntil > this.opts.clock.now() ? h : undefined;
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops renewing; revokes the lease (dropping its keys at once) when asked. */
  async stop(revoke: boolean): Promise<void> {
    this.running = false;
    this.wake.abort();
    await this.loop;
    const lease = this.lease;
    this.lease = undefined;
    this.held = undefined;
    if (!lease) return;
    if (!revoke) return lease.release();
    await lease
      .revoke({ deadline: Date.now() + this.opts.timing.callTimeoutMs * 2 })
      .catch((err: Error) => this.opts.log.warn({ err: err.message }, 'could not revoke the etcd lease'));
  }

  /** Abandon the current lease (its keys expire with it) and grant a new one. */
  poison(): void {
    if (!this.lease) return;
    this.opts.log.warn({ lease: this.held?.id }, 'giving up the etcd lease; its keys expire with it');
    this.lease.release();
    this.lease = undefined;
    this.held = undefined;
    this.kick();
  }

  private kick(): void {
    this.wake.abort();
  }

  private async pause(ms: number): Promise<void> {
    if (!this.running) return;
    if (this.wake.signal.aborted) this.wake = new AbortController();
    const signal = this.wake.signal;
    await new Promise<void>((resolve) => {
      const done = () => {
        cancel();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const cancel = this.opts.clock.setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private async run(): Promise<void> {
    const { timing, clock } = this.opts;
    while (this.running) {
      if (!this.lease) {
        if (!(await this.grant())) await this.pause(RETRY_MS);
        continue;
      }
      const due = this.lastSend + timing.keepaliveMs;
      if (clock.now() < due) {
        await this.pause(due - clock.now());
        continue;
      }
      this.lastSend = clock.now();
      // Not awaited: the next keepalive leaves on time whatever happens to this one.
      this.renew(this.lastSend).catch((err: Error) =>
        this.opts.log.error({ err: err.message }, 'etcd keepalive: handling the answer failed'),
      );
    }
  }

  private async grant(): Promise<boolean> {
    const { client, timing, clock, log } = this.opts;
    const t0 = clock.now();
    const lease = client.lease(timing.ttlSec, {
      autoKeepAlive: false,
      deadline: Date.now() + timing.callTimeoutMs * 2,
    });
    // A failed grant is reported through the promise; the event would only duplicate it.
    lease.on('lost', () => undefined);
    try {
      const id = await withTimeout(lease.grant(), timing.callTimeoutMs * 2, undefined, clock);
      if (!this.running) {
        lease.release();
        return true;
      }
      this.lease = lease;
      this.lastSend = t0;
      this.held = { id, validUntil: t0 + timing.math.validityMs };
      log.info({ lease: id, ttlSec: timing.ttlSec }, 'etcd lease granted');
      this.opts.onEvent({ type: 'granted', lease: { ...this.held } });
      return true;
    } catch (err) {
      lease.release();
      log.debug({ err: (err as Error).message }, 'etcd lease grant failed');
      return false;
    }
  }

  private async renew(t0: number): Promise<void> {
    const { timing, clock, log } = this.opts;
    const lease = this.lease;
    const held = this.held;
    if (!lease || !held) return;
    try {
      const deadline = Date.now() + timing.callTimeoutMs;
      const members = this.opts.memberClients ?? [];
      const res = await withTimeout(
        members.length > 0
          ? keepaliveAnyMember(members, held.id, deadline)
          : lease.keepaliveOnce({ deadline }),
        timing.callTimeoutMs,
        undefined,
        clock,
      );
      // Poisoned or replaced while the call was in flight: the answer is about an old lease.
      if (this.lease !== lease) return;
      const ttlMs = Math.min(Number(res.TTL) * 1000, timing.ttlSec * 1000);
      if (!(ttlMs > 0)) throw new EtcdLeaseInvalidError(held.id);
      // V for the TTL etcd actually restarted (never more than ours). Answers may come back
      // out of order: an older keepalive's answer never moves the deadline back.
      const validity = timing.math.validityMs - (timing.ttlSec * 1000 - ttlMs);
      if (t0 + validity <= held.validUntil) return;
      held.validUntil = t0 + validity;
      this.opts.onEvent({ type: 'renewed', lease: { ...held } });
    } catch (err) {
      if (this.lease !== lease) return;
      if (err instanceof EtcdLeaseInvalidError) {
        log.warn({ lease: held.id }, 'etcd says our lease is gone');
        lease.release();
        this.lease = undefined;
        this.held = undefined;
        this.opts.onEvent({ type: 'lost', id: held.id });
        this.kick();
        return;
      }
      log.debug({ err: (err as Error).message }, 'etcd keepalive failed');
    }
  }
}

/**
 * `p`, or a rejection after `ms` (etcd did not answer) or as soon as `signal` aborts (the
 * coordinator is stopping and will not use the answer). `timers` measures the `ms`.
 */
export function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  signal?: AbortSignal,
  timers: TimerClock = monotonicTimers,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      p.catch(() => undefined);
      reject(new Error('cancelled: the coordinator is stopping'));
      return;
    }
    const onAbort = () => {
      cancel();
      reject(new Error('cancelled: the coordinator is stopping'));
    };
    const cancel = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      reject(new Error(`etcd did not answer within ${ms}ms`));
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        cancel();
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        cancel();
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
