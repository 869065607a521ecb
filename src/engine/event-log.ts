import { appendFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { currentIdentity } from '../util/request-identity.js';

/**
 * The per-node event log: JSON lines in `<dir>/events.jsonl`, rotated to
 * `events.1.jsonl` … `events.<keep>.jsonl` at a size limit, and kept across restarts (the
 * sequence number continues). Recent events stay in memory for status and for clients that
 * subscribe to the live stream (the API's server-sent events).
 */

export type EventType =
  | 'agent'
  | 'lease'
  | 'group'
  | 'resource'
  | 'monitor'
  | 'recovery'
  | 'intent'
  | 'params'
  | 'alert'
  /** An alert could not be delivered to a receiver (src/alerts/). */
  | 'alert-failed'
  | 'timeline';

/**
 * Events an operator's request records while it is handled: they name the API token that asked
 * (`by`). Whatever the engine does later, on its own schedule, is not attributed.
 */
const ATTRIBUTED: ReadonlySet<string> = new Set(['intent', 'params', 'agent']);

export interface HaloEvent {
  seq: number;
  /** Wall-clock time, ISO 8601. */
  ts: string;
  node: string;
  type: EventType;
  level: 'info' | 'warn' | 'error';
  group?: string;
  resource?: string;
  monitor?: string;
  message: string;
  output?: string;
  details?: Record<string, unknown>;
  /** The API token that asked for it (operator actions: intent, parameters, config). */
  by?: string;
}

export type EventInput = Omit<HaloEvent, 'seq' | 'ts' | 'node' | 'level' | 'by'> & {
  level?: HaloEvent['level'];
};

export interface EventLogOptions {
  dir: string;
  node: string;
  /** Rotate when the current file would grow past this (default 5 MiB). */
  maxBytes?: number;
  /** Rotated files kept (default 5). */
  keep?: number;
  /** Events kept in memory (default 1000). */
  ringSize?: number;
  /** Longer outputs are cut to this many characters (default 4096). */
  maxOutputChars?: number;
  wallNow?: () => number;
  log?: Logger;
}

export const EVENTS_FILE = 'events.jsonl';

/** Bytes of event lines held for a disk that does not keep up, at most. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

export class EventLog {
  private readonly opts: Required<Omit<EventLogOptions, 'log'>> & { log: Logger | undefined };
  private ring: HaloEvent[] = [];
  private seq = 0;
  private size = 0;
  private writing: Promise<void> = Promise.resolve();
  /** Lines waiting for the write in progress: written together, in one append per file. */
  private pending: string[] = [];
  private pendingBytes = 0;
  private dropped = 0;
  private readonly listeners = new Set<(event: HaloEvent) => void>();
  private writeErrorLogged = false;

  constructor(opts: EventLogOptions) {
    this.opts = {
      maxBytes: 5 * 1024 * 1024,
      keep: 5,
      ringSize: 1000,
      maxOutputChars: 4096,
      wallNow: Date.now,
      ...opts,
      log: opts.log,
    };
  }

  private file(index = 0): string {
    return join(this.opts.dir, index === 0 ? EVENTS_FILE : `events.${index}.jsonl`);
  }

  /** Creates the directory and restores the sequence number and recent events from disk. */
  async start(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    const current = await readLines(this.file(0));
    this.size = (await stat(this.file(0)).catch(() => null))?.size ?? 0;
    const previous = current.length < this.opts.ringSize ? await readLines(this.file(1)) : [];
    const restored = [...previous, ...current].slice(-this.opts.ringSize);
    this.ring = restored;
    this.seq = Math.max(this.seq, restored.at(-1)?.seq ?? 0);
  }

  append(input: EventInput): HaloEvent {
    const { level, output, ...rest } = input;
    const by = ATTRIBUTED.has(input.type) ? currentIdentity() : undefined;
    const event: HaloEvent = {
      seq: ++this.seq,
      ts: new Date(this.opts.wallNow()).toISOString(),
      node: this.opts.node,
      level: level ?? 'info',
      ...rest,
      ...(by !== undefined ? { message: `${rest.message} (by ${by})`, by } : {}),
      ...(output !== undefined ? { output: clip(output, this.opts.maxOutputChars) } : {}),
    };
    this.ring.push(event);
    if (this.ring.length > this.opts.ringSize) this.ring.splice(0, this.ring.length - this.opts.ringSize);
    this.enqueue(`${JSON.stringify(event)}\n`);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // One broken subscriber must not stop the others or the engine.
      }
    }
    return event;
  }

  /** Recent events, oldest first; `afterSeq` for catching up after a reconnect. */
  recent(filter: { limit?: number; afterSeq?: number; group?: string } = {}): HaloEvent[] {
    let events = this.ring;
    if (filter.afterSeq !== undefined) events = events.filter((e) => e.seq > filter.afterSeq!);
    if (filter.group !== undefined) events = events.filter((e) => e.group === filter.group);
    if (filter.limit === undefined) return [...events];
    // slice(-0) would return everything: a limit of 0 means none.
    return filter.limit > 0 ? events.slice(-filter.limit) : [];
  }

  subscribe(listener: (event: HaloEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every appended event is on disk. */
  flush(): Promise<void> {
    return this.writing;
  }

  async stop(): Promise<void> {
    await this.flush();
    this.listeners.clear();
  }

  /**
   * Queues a line for the disk. A storm of events (a thousand groups failing over at once)
   * must not queue one write per event: the lines that arrive while a write is in progress go
   * in the next one together. Past MAX_PENDING_BYTES (a disk that does not keep up) lines are
   * dropped and the count is written when the disk catches up; the ring still has them.
   */
  private enqueue(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (this.pendingBytes + bytes > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.pending.push(line);
    this.pendingBytes += bytes;
    if (this.pending.length === 1) this.writing = this.writing.then(() => this.drain());
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const lines = this.pending;
      this.pending = [];
      this.pendingBytes = 0;
      if (this.dropped > 0) {
        lines.push(
          `${JSON.stringify({ ts: new Date(this.opts.wallNow()).toISOString(), node: this.opts.node, level: 'warn', type: 'agent', message: `${this.dropped} event(s) not written: the disk did not keep up` })}\n`,
        );
        this.dropped = 0;
      }
      await this.write(lines);
    }
  }

  /** Appends `lines` in as few writes as the rotation allows. */
  private async write(lines: string[]): Promise<void> {
    try {
      let chunk = '';
      let chunkBytes = 0;
      for (const line of lines) {
        const bytes = Buffer.byteLength(line);
        if (this.size + chunkBytes > 0 && this.size + chunkBytes + bytes > this.opts.maxBytes) {
          if (chunkBytes > 0) await appendFile(this.file(0), chunk);
          chunk = '';
          chunkBytes = 0;
          await this.rotate();
        }
        chunk += line;
        chunkBytes += bytes;
      }
      if (chunkBytes > 0) await appendFile(this.file(0), chunk);
      this.size += chunkBytes;
    } catch (err) {
      // The event log is diagnostics: losing a line must never stop the engine.
      if (!this.writeErrorLogged) this.opts.log?.error({ err, dir: this.opts.dir }, 'event log write failed');
      this.writeErrorLogged = true;
    }
  }

  private async rotate(): Promise<void> {
    await rm(this.file(this.opts.keep), { force: true });
    for (let i = this.opts.keep - 1; i >= 0; i--) {
      await rename(this.file(i), this.file(i + 1)).catch(() => undefined);
    }
    this.size = 0;
  }
}

async function readLines(path: string): Promise<HaloEvent[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const events: HaloEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = JSON.parse(line) as HaloEvent;
      if (typeof parsed.seq === 'number') events.push(parsed);
    } catch {
      // A torn last line after a crash is expected; skip it.
    }
  }
  return events;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

export type TimelinePhase = 'detected' | 'decided' | 'stopped' | 'lease-granted' | 'started' | 'healthy';

export interface TimelineStep {
  phase: TimelinePhase;
  at: string;
  /** Since the first phase of this timeline. */
  sinceStartMs: number;
  /** Since the previous phase. */
  durationMs: number;
}

/**
 * One node's part of a failover: the old owner sees detected → decided → stopped, the new
 * owner lease-granted → started → healthy. Times are on the local monotonic clock; `at` is
 * wall time so the two halves can be lined up by eye.
 */
export interface Timeline {
  group: string;
  node: string;
  reason: string;
  steps: TimelineStep[];
  totalMs: number;
}

export class TimelineRecorder {
  private readonly open = new Map<
    string,
    { reason: string; startMono: number; lastMono: number; steps: TimelineStep[] }
  >();
  private readonly lastByGroup = new Map<string, Timeline>();

  constructor(
    private readonly events: EventLog,
    private readonly node: string,
    private readonly clock: { now(): number; wallNow(): number },
  ) {}

  /** Records a phase (the first phase opens a timeline); a repeated phase is ignored. */
  mark(group: string, phase: TimelinePhase, reason: string): void {
    const now = this.clock.now();
    let t = this.open.get(group);
    if (!t) {
      t = { reason, startMono: now, lastMono: now, steps: [] };
      this.open.set(group, t);
    }
    if (t.steps.some((s) => s.phase === phase)) return;
    t.steps.push({
      phase,
      at: new Date(this.clock.wallNow()).toISOString(),
      sinceStartMs: Math.round(now - t.startMono),
      durationMs: Math.round(now - t.lastMono),
    });
    t.lastMono = now;
  }

  has(group: string, phase: TimelinePhase): boolean {
    return this.open.get(group)?.steps.some((s) => s.phase === phase) ?? false;
  }

  isOpen(group: string): boolean {
    return this.open.has(group);
  }

  /** Drops an open timeline without emitting it (a failure that healed by itself). */
  abandon(group: string): void {
    this.open.delete(group);
  }

  /** Closes the group's timeline and emits it as a `timeline` event. */
  finish(group: string): Timeline | null {
    const t = this.open.get(group);
    if (!t) return null;
    this.open.delete(group);
    const timeline: Timeline = {
      group,
      node: this.node,
      reason: t.reason,
      steps: t.steps,
      totalMs: t.steps.at(-1)?.sinceStartMs ?? 0,
    };
    this.lastByGroup.set(group, timeline);
    const summary = timeline.steps.map((s) => `${s.phase} +${s.durationMs}ms`).join(' → ');
    this.events.append({
      type: 'timeline',
      group,
      message: `${t.reason}: ${summary} (total ${timeline.totalMs}ms)`,
      details: { timeline },
    });
    return timeline;
  }

  last(group: string): Timeline | null {
    return this.lastByGroup.get(group) ?? null;
  }
}
