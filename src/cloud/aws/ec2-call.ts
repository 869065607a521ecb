import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../log.js';
import { budgetExceeded, classifyEc2Error, Ec2Error } from './ec2-error.js';

/**
 * One EC2 API call under a budget: attempts are retried with capped exponential back-off and
 * full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter") while the error is
 * transient and time is left; the whole call, retries included, ends by `budgetMs` or when
 * `parent` aborts. The SDK's own retries are off so this is the only retry loop.
 */

export interface CallOptions {
  op: string;
  budgetMs: number;
  signal: AbortSignal;
  log?: Logger | undefined;
  /** First back-off delay; doubles per attempt up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Below this much time left, another attempt cannot get an answer; give up instead. */
const MIN_ATTEMPT_MS = 50;

export async function callWithBudget<T>(
  opts: CallOptions,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { budgetMs } = opts;
  const deadline = Date.now() + budgetMs;
  // A ref'd timer, unlike AbortSignal.timeout(): a one-shot CLI must not exit mid-call.
  const budget = new AbortController();
  const timer = setTimeout(() => budget.abort(new Error('call budget spent')), budgetMs);
  try {
    return await attempts(opts, attempt, deadline, budget.signal);
  } finally {
    clearTimeout(timer);
  }
}

async function attempts<T>(
  opts: CallOptions,
  attempt: (signal: AbortSignal) => Promise<T>,
  deadline: number,
  budget: AbortSignal,
): Promise<T> {
  const { op, budgetMs, signal } = opts;
  const base = opts.baseDelayMs ?? 100;
  const cap = opts.maxDelayMs ?? 1000;
  const both = AbortSignal.any([signal, budget]);
  let last: Ec2Error | undefined;
  for (let n = 0; ; n++) {
    if (signal.aborted) throw cancelled(op, signal, last);
    if (budget.aborted || deadline - Date.now() < MIN_ATTEMPT_MS) throw budgetExceeded(op, budgetMs, last);
    try {
      return await attempt(both);
    } catch (err) {
      if (signal.aborted) throw cancelled(op, signal, last);
      if (budget.aborted) throw budgetExceeded(op, budgetMs, last);
      last = classifyEc2Error(op, err);
      if (!last.transient) throw last;
    }
    const delay = Math.random() * Math.min(cap, base * 2 ** n);
    if (deadline - Date.now() - delay < MIN_ATTEMPT_MS) throw budgetExceeded(op, budgetMs, last);
    opts.log?.debug(
      { op, attempt: n + 1, delayMs: Math.round(delay), err: last.message },
      'ec2 call retrying',
    );
    try {
      await sleep(delay, undefined, { signal: both });
    } catch {
      // Woken by an abort: the checks at the top of the loop say which one.
    }
  }
}

function cancelled(op: string, signal: AbortSignal, last: Ec2Error | undefined): Ec2Error {
  const why = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
  return new Ec2Error(op, 'cancelled', `EC2 ${op} was cancelled (${why})`, last?.awsCode, last);
}
