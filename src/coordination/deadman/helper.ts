import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { encodeFrame, newBootId } from '../transport/codec.js';
import type { Link } from '../transport/udp-transport.js';
import { executeActions } from './actions.js';
import { type AgentToHelper, type ArmSpec, type HelperToAgent, monoNowMs } from './protocol.js';

/**
 * The deadman helper's logic: the last rung of the self-stop ladder (the agent demotes at
 * V − S, the helper fences at V − gh), and the early release when only the agent dies. I/O is injected so main.ts stays a thin wrapper around process stdio.
 *
 * - At a group's deadline: run its fence actions at once (SIGKILL without grace: the lease
 *   ends a few ms later), tell the agent, send nothing to voters (the lease expires anyway).
 * - Pipe closed without `stop` (agent killed or crashed): run every armed group's actions,
 *   and for each group whose stop is confirmed send its release payload, signed as this node
 *   with the helper's own bootId, to every other voter. Unconfirmed groups send nothing, so
 *   their lease simply runs out. Then exit.
 * - `stop`: disarm everything and exit without acting (planned shutdown by the agent).
 */

export type HelperLog = (
  level: 'info' | 'warn' | 'error',
  fields: Record<string, unknown>,
  msg: string,
) => void;

export interface HelperIo {
  reply(msg: HelperToAgent): void;
  log: HelperLog;
  exit(code: number): void;
}

interface Identity {
  nodeName: string;
  cluster: string;
  epoch: number;
  key: Buffer;
  voters: Record<string, Link[]>;
  killGraceMs: number;
}

/** Delays of the repeated release sends: a lost datagram would cost a full lease wait. */
const RELEASE_REPEATS_MS = [0, 20, 60, 150];
const DEFAULT_KILL_GRACE_MS = 200;

type State = 'waiting-init' | 'running' | 'fencing' | 'exiting';

export class DeadmanHelper {
  private readonly io: HelperIo;
  private readonly bootId = newBootId();
  private readonly armed = new Map<string, ArmSpec>();
  /**
   * One timer for every armed group, due at the earliest deadline: groups renewed together
   * share a deadline, and a timer each would run their fences one callback at a time.
   */
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly inFlight = new Set<Promise<void>>();
  private identity: Identity | null = null;
  private state: State = 'waiting-init';
  private seq = 0;

  constructor(io: HelperIo) {
    this.io = io;
  }

  handle(raw: unknown): void {
    const msg = raw as AgentToHelper;
    if (typeof msg !== 'object' || msg === null || typeof msg.t !== 'string' || typeof msg.id !== 'number') {
      this.io.log('warn', {}, 'ignored malformed message from agent');
      return;
    }
    if (this.state === 'fencing' || this.state === 'exiting') return;
    try {
      const missing = this.dispatch(msg);
      this.io.reply(missing ? { t: 'ack', id: msg.id, missing } : { t: 'ack', id: msg.id });
    } catch (err) {
      this.io.reply({ t: 'error', id: msg.id, message: (err as Error).message });
    }
  }

  /** The pipe to the agent closed (EOF or error). */
  agentGone(): void {
    if (this.state === 'exiting' || this.state === 'fencing') return;
    if (this.identity === null || this.armed.size === 0) {
      this.io.log('info', { armed: 0 }, 'agent gone, nothing armed');
      this.finish(0);
      return;
    }
    this.state = 'fencing';
    this.io.log('warn', { groups: [...this.armed.keys()] }, 'agent gone, fencing armed groups');
    const groups = [...this.armed.entries()];
    this.disarmAll();
    const work = groups.map(async ([group, spec]) => {
      const started = monoNowMs();
      const result = await executeActions(spec.actions, {
        killByMonoMs: Math.min(started + this.identity!.killGraceMs, spec.deadlineMonoMs),
      });
      const ms = Math.round(monoNowMs() - started);
      if (!result.confirmed) {
        this.io.log('error', { group, ms, outcomes: result.outcomes }, 'stop not confirmed, no release sent');
        return;
      }
      this.io.log('info', { group, ms, outcomes: result.outcomes }, 'group stopped, sending release');
      await this.sendRelease(group, spec.releasePayload);
    });
    void Promise.allSettled([...work, ...this.inFlight]).then(() => this.finish(0));
  }

  /** Carries out one request; for `extend`, returns the groups it does not hold armed. */
  private dispatch(msg: AgentToHelper): string[] | undefined {
    switch (msg.t) {
      case 'init': {
        if (this.identity !== null) throw new Error('already initialised');
        this.identity = {
          nodeName: msg.nodeName,
          cluster: msg.cluster,
          epoch: msg.epoch,
          key: Buffer.from(msg.key, 'base64'),
          voters: msg.voters,
          killGraceMs: msg.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
        };
        this.state = 'running';
        this.io.log(
          'info',
          { node: msg.nodeName, cluster: msg.cluster, pid: process.pid },
          'deadman helper ready',
        );
        return;
      }
      case 'config': {
        const id = this.requireIdentity();
        if (msg.epoch !== undefined) id.epoch = msg.epoch;
        if (msg.key !== undefined) id.key = Buffer.from(msg.key, 'base64');
        if (msg.voters !== undefined) id.voters = msg.voters;
        return;
      }
      case 'arm': {
        this.requireIdentity();
        if (!Number.isFinite(msg.deadlineMonoMs) || !Array.isArray(msg.actions))
          throw new Error('bad arm request');
        this.armed.set(msg.group, {
          deadlineMonoMs: msg.deadlineMonoMs,
          actions: msg.actions,
          releasePayload: msg.releasePayload,
        });
        if (msg.deadlineMonoMs < this.timerAt) this.wakeAt(msg.deadlineMonoMs);
        return;
      }
      case 'extend': {
        this.requireIdentity();
        if (!Number.isFinite(msg.deadlineMonoMs) || !Array.isArray(msg.groups))
          throw new Error('bad extend request');
        const missing: string[] = [];
        for (const group of msg.groups) {
          const armed = this.armed.get(group);
          // The timer stays: it fires at the old deadline, finds later ones and waits again.
          if (armed) armed.deadlineMonoMs = msg.deadlineMonoMs;
          else missing.push(String(group));
        }
        if (msg.deadlineMonoMs < this.timerAt && msg.groups.length > missing.length)
          this.wakeAt(msg.deadlineMonoMs);
        return missing;
      }
      case 'disarm': {
        this.armed.delete(msg.group);
        if (this.armed.size === 0) this.disarmAll();
        return;
      }
      case 'stop': {
        this.disarmAll();
        this.io.log('info', {}, 'stopped by agent');
        // Ack first (handle() replies after dispatch), then exit once in-flight work is done.
        setImmediate(() => void Promise.allSettled([...this.inFlight]).then(() => this.finish(0)));
        this.state = 'exiting';
        return;
      }
      default:
        throw new Error(`unknown request ${(msg as { t: string }).t}`);
    }
  }

  private requireIdentity(): Identity {
    if (this.identity === null) throw new Error('not initialised');
    return this.identity;
  }

  private disarmAll(): void {
    this.armed.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private wakeAt(deadline: number): void {
    clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(() => this.deadlinesReached(), Math.max(0, deadline - monoNowMs()));
  }

  /**
   * The timer fired: fence every group whose current deadline (an extend may have moved it)
   * has passed, then wait for the earliest remaining one. All due groups are taken off the
   * armed set and logged first, then their fences start one after the other; `lateMs` is how
   * late the helper decided, `startLateMs` how late a group's first action was issued (a stop
   * command is a fork and exec, which the groups before it in the same batch wait for).
   */
  private deadlinesReached(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.state !== 'running') return;
    const now = monoNowMs();
    const due: [string, ArmSpec][] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.armed) {
      const deadline = entry[1].deadlineMonoMs;
      if (deadline <= now) due.push(entry);
      else if (deadline < next) next = deadline;
    }
    for (const [group] of due) this.armed.delete(group);
    if (next !== Number.POSITIVE_INFINITY) this.wakeAt(next);
    if (due.length === 0) return;
    // A signal is issued at once; a command is a fork and exec that the groups after it wait
    // for. Groups whose first action is a signal go first, then by deadline.
    const forksFirst = (spec: ArmSpec) => (spec.actions[0]?.kind === 'kill-tree' ? 0 : 1);
    due.sort((a, b) => forksFirst(a[1]) - forksFirst(b[1]) || a[1].deadlineMonoMs - b[1].deadlineMonoMs);
    for (const [group, spec] of due) {
      const lateMs = Math.round(now - spec.deadlineMonoMs);
      this.io.log('warn', { group, lateMs, batch: due.length }, 'deadline reached, fencing group');
    }
    for (const [group, spec] of due) {
      const startLateMs = Math.round(monoNowMs() - spec.deadlineMonoMs);
      const work = executeActions(spec.actions, { killByMonoMs: monoNowMs() }).then((result) => {
        this.io.log(
          result.confirmed ? 'info' : 'error',
          { group, startLateMs, outcomes: result.outcomes },
          'deadline fence done',
        );
        this.io.reply({ t: 'fenced', group, confirmed: result.confirmed });
      });
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    }
  }

  private async sendRelease(group: string, payload: unknown): Promise<void> {
    const id = this.identity!;
    const frame = encodeFrame(
      {
        cluster: id.cluster,
        epoch: id.epoch,
        from: id.nodeName,
        bootId: this.bootId,
        seq: ++this.seq,
        sentAt: monoNowMs(),
      },
      [payload],
      id.key,
    );
    const targets = Object.entries(id.voters)
      .filter(([name]) => name !== id.nodeName)
      .flatMap(([, links]) => links);
    const sockets = new Map<'udp4' | 'udp6', dgram.Socket>();
    const socketFor = (link: Link) => {
      const type = isIPv6(link.host) ? 'udp6' : 'udp4';
      let s = sockets.get(type);
      if (s === undefined) {
        s = dgram.createSocket(type);
        s.on('error', () => {});
        sockets.set(type, s);
      }
      return s;
    };
    let sent = 0;
    let elapsed = 0;
    for (const delay of RELEASE_REPEATS_MS) {
      if (delay > elapsed) await new Promise((r) => setTimeout(r, delay - elapsed));
      elapsed = delay;
      await Promise.all(
        targets.map(
          (link) =>
            new Promise<void>((resolve) => {
              socketFor(link).send(frame, link.port, link.host, (err) => {
                if (!err) sent++;
                resolve();
              });
            }),
        ),
      );
    }
    for (const s of sockets.values()) s.close();
    this.io.log('info', { group, datagrams: sent }, 'release sent');
  }

  private finish(code: number): void {
    this.state = 'exiting';
    this.io.exit(code);
  }
}
