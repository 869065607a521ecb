import { HaloError } from '../errors.js';
import { formatDuration } from '../util/duration.js';
import type { EngineCore } from './engine-core.js';
import type { EngineMonitors } from './engine-monitors.js';
import type { EngineProbes } from './engine-probes.js';
import type { GroupSlot } from './group-state.js';
import { clearFailuresEntries, groupIntent, intentKeys, type ParsedIntent } from './intent.js';
import type { Cancel } from './timers.js';

/**
 * The failure history of the groups on this node: wakes the engine when a failure mark
 * expires (failure-expiry.ts decides which ones have), says so in the event log, and carries
 * out `halo cleanup`. A cleanup is written to the replicated intent (the marks it clears and a
 * `cleanup` entry), so every node it concerns resets its own monitor counters and re-probes.
 */

/** The wall clock can step (NTP) while a timer runs on monotonic time: look again at least this often. */
const MAX_WAIT_MS = 60_000;

export interface CleanupResult {
  /** Nodes whose failure marks (counted or expired) were cleared. */
  cleared: string[];
}

export class EngineFailures {
  private readonly core: EngineCore;
  private readonly monitors: EngineMonitors;
  private readonly probes: EngineProbes;
  private cancelTimer: Cancel | null = null;
  private armedFor: number | null = null;
  /** `group/node/failedAt` of the expired marks already announced. */
  private expiredSeen = new Set<string>();
  /** The cleanup version each group was last seen with. */
  private readonly cleanupSeen = new Map<string, number | null>();

  constructor(core: EngineCore, monitors: EngineMonitors, probes: EngineProbes) {
    this.core = core;
    this.monitors = monitors;
    this.probes = probes;
  }

  /**
   * Called before the first reconcile: marks expired and cleanups written before this agent
   * started are not news (its start probes every group anyway).
   */
  prime(intent: ParsedIntent): void {
    this.expiredSeen = expiredKeys(intent);
    for (const name of this.core.groups.keys())
      this.cleanupSeen.set(name, groupIntent(intent, name).cleanup?.version ?? null);
  }

  /** After every reconcile: announce new expiries, act on new cleanups, wake for the next expiry. */
  observe(intent: ParsedIntent, nextExpiryAt: number | null): void {
    this.announceExpired(intent);
    for (const [name, g] of this.core.groups) {
      const request = groupIntent(intent, name).cleanup;
      const version = request?.version ?? null;
      if (this.cleanupSeen.get(name) === version) continue;
      this.cleanupSeen.set(name, version);
      if (request && (request.node === null || request.node === this.core.opts.node))
        this.cleanUpHere(g, request.resource);
    }
    this.arm(nextExpiryAt);
  }

  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.armedFor = null;
  }

  /**
   * `halo cleanup GROUP[/RESOURCE] [--node N]`: clears the group's failure marks (of N only
   * with a node) and asks every node concerned to forget its failure counters and re-probe.
   */
  async cleanup(group: string, opts: { resource?: string; node?: string }): Promise<CleanupResult> {
    const { core } = this;
    core.group(group);
    if (opts.resource !== undefined) core.resource(group, opts.resource);
    const node = opts.node;
    if (node !== undefined && !core.opts.config.nodes.some((n) => n.name === node)) {
      throw new HaloError('HALO_E_BAD_REQUEST', `node ${node} is not a node of this cluster`, {
        group,
        node,
        nodes: core.opts.config.nodes.map((n) => n.name),
      });
    }
    const marks = clearFailuresEntries(core.intent(), group, node);
    const cleared = Object.keys(marks)
      .map((key) => key.slice(key.lastIndexOf('/') + 1))
      .sort();
    await core.writeIntent({
      ...marks,
      [intentKeys.cleanup(group)]: { resource: opts.resource ?? null, node: node ?? null },
    });
    core.event({
      type: 'intent',
      group,
      ...(opts.resource !== undefined ? { resource: opts.resource } : {}),
      message: `cleanup of ${target(group, opts.resource)}${node ? ` on ${node}` : ''} requested: ${
        cleared.length > 0 ? `failure marks of ${cleared.join(', ')} cleared` : 'no failure marks'
      }`,
      details: { cleanup: true, cleared, node: node ?? null },
    });
    return { cleared };
  }

  private cleanUpHere(g: GroupSlot, resource: string | null): void {
    const { core } = this;
    const stoppedBefore = g.state.phase;
    // The operator vouches for a failed stop; the probe below checks what still runs.
    g.state.clearFailedStop();
    const stopped = g.state.phase === 'stopped' && !g.state.held;
    if (resource === null) g.state.setError(null);
    for (const r of g.resources.values())
      if (resource === null || r.config.name === resource) r.clearFailure(stopped);
    this.monitors.forgetFailures(g, resource);
    this.probes.probeSoon(g);
    core.event({
      type: 'group',
      group: g.config.name,
      ...(resource !== null ? { resource } : {}),
      message: `cleanup of ${target(g.config.name, resource ?? undefined)} on ${core.opts.node}: failure counters reset${
        stoppedBefore === 'failed-stop' && stopped ? ', failed stop cleared' : ''
      }${stopped ? ', probing again' : ''}`,
      details: { cleanup: true },
    });
    core.kick();
  }

  private announceExpired(intent: ParsedIntent): void {
    const now = expiredKeys(intent);
    for (const key of now) {
      if (this.expiredSeen.has(key)) continue;
      const [group, node] = key.split('/') as [string, string];
      const timeoutMs = this.core.groups.get(group)?.config.failureTimeoutMs ?? 0;
      this.core.event({
        type: 'group',
        group,
        message: `failure mark of ${node} for ${group} expired (failureTimeout ${formatDuration(timeoutMs)}): ${node} may run ${group} again`,
        details: { failureExpired: true, node },
      });
    }
    this.expiredSeen = now;
  }

  private arm(atWallMs: number | null): void {
    if (atWallMs === this.armedFor) return;
    this.stop();
    if (atWallMs === null || !this.core.running) return;
    const { timers } = this.core.opts;
    this.armedFor = atWallMs;
    const delay = Math.min(MAX_WAIT_MS, Math.max(0, atWallMs - timers.wallNow()));
    this.cancelTimer = timers.setTimeout(() => {
      this.cancelTimer = null;
      this.armedFor = null;
      this.core.kick();
    }, delay);
  }
}

function expiredKeys(intent: ParsedIntent): Set<string> {
  const keys = new Set<string>();
  for (const [group, gi] of Object.entries(intent.groups))
    for (const node of gi.expired) keys.add(`${group}/${node}/${gi.failedAt[node]}`);
  return keys;
}

const target = (group: string, resource: string | undefined) =>
  resource === undefined ? group : `${group}/${resource}`;
