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

interface Armed extends ArmSpec {
  timer: NodeJS.Timeout;
}

/** Delays of the repeated release sends: a lost datagram would cost a full lease wait. */
const RELEASE_REPEATS_MS = [0, 20, 60, 150];
const DEFAULT_KILL_GRACE_MS = 200;

type State = 'waiting-init' | 'running' | 'fencing' | 'exiting';

export class DeadmanHelper {
  private readonly io: HelperIo;
  private readonly bootId = newBootId();
  private readonly armed = new Map<string, Armed>();
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
    this.armed.clear();
    const work = groups.map(async ([group, spec]) => {
      clearTimeout(spec.timer);
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
        const previous = this.armed.get(msg.group);
        if (previous) clearTimeout(previous.timer);
        const timer = this.deadlineTimer(msg.group, msg.deadlineMonoMs);
        this.armed.set(msg.group, {
          deadlineMonoMs: msg.deadlineMonoMs,
          actions: msg.actions,
          releasePayload: msg.releasePayload,
          timer,
        });
        return;
      }
      case 'extend': {
        this.requireIdentity();
        if (!Number.isFinite(msg.deadlineMonoMs) || !Array.isArray(msg.groups))
          throw new Error('bad extend request');
        const missing: string[] = [];
        for (const group of msg.groups) {
          const armed = this.armed.get(group);
          // The timer stays: it fires at the old deadline, finds a later one and waits again.
          if (armed) armed.deadlineMonoMs = msg.deadlineMonoMs;
          else missing.push(String(group));
        }
        return missing;
      }
      case 'disarm': {
        const armed = this.armed.get(msg.group);
        if (armed) clearTimeout(armed.timer);
        this.armed.delete(msg.group);
        return;
      }
      case 'stop': {
        for (const a of this.armed.values()) clearTimeout(a.timer);
        this.armed.clear();
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

  private deadlineTimer(group: string, deadline: number): NodeJS.Timeout {
    return setTimeout(() => this.deadlineReached(group), Math.max(0, deadline - monoNowMs()));
  }

  /** A group's timer fired: fence if its current deadline (an extend may have moved it) passed. */
  private deadlineReached(group: string): void {
    const armed = this.armed.get(group);
    if (armed === undefined || this.state !== 'running') return;
    const deadline = armed.deadlineMonoMs;
    const early = deadline - monoNowMs();
    if (early > 0) {
      armed.timer = this.deadlineTimer(group, deadline);
      return;
    }
    this.armed.delete(group);
    const lateMs = Math.round(-early);
    this.io.log('warn', { group, lateMs }, 'deadline reached, fencing group');
    const work = executeActions(armed.actions, { killByMonoMs: monoNowMs() }).then((result) => {
      this.io.log(
        result.confirmed ? 'info' : 'error',
        { group, outcomes: result.outcomes },
        'deadline fence done',
      );
      this.io.reply({ t: 'fenced', group, confirmed: result.confirmed });
    });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
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
