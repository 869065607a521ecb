import type { FinalAction, GroupConfig } from '../config/model.js';
import {
  awaitingProbes,
  type GroupIntent,
  groupIntent,
  inMaintenance,
  monitorKey,
  type ParsedIntent,
} from './intent.js';

/**
 * The decision core of the group engine (Pacemaker's scheduler in miniature): a snapshot of
 * desired state (config + admin intent) and observed state (members, lease owners, local
 * phases, pending local requests) in, the actions for THIS node out. Pure: no I/O, no clock.
 * The engine re-runs it after every change and executes the actions one group at a time.
 */

/** Where a group stands on this node. */
export type LocalPhase =
  /** Nothing of the group runs here. */
  | 'stopped'
  /** Resources are being started (under a lease held here). */
  | 'starting'
  /** Every resource started; monitors run. */
  | 'running'
  /** Resources are being stopped. */
  | 'stopping'
  /** A stop failed or timed out: the lease must run out and the deadman act; never released. */
  | 'failed-stop';

/** What a monitor (or a failed start) asked for, waiting for the scheduler to act on it. */
export type LocalRequest =
  | { kind: 'restart'; resource: string; monitor: string }
  | { kind: 'failover'; monitor: string; reason: string }
  | { kind: 'start-failed'; reason: string };

export interface MemberState {
  name: string;
  up: boolean;
  eligible: boolean;
}

export interface Snapshot {
  self: string;
  groups: GroupConfig[];
  intent: ParsedIntent;
  members: MemberState[];
  /** Lease owner per group; equals `self` only while this node holds the lease. */
  owners: Record<string, string | null>;
  phases: Record<string, LocalPhase>;
  requests: Record<string, readonly LocalRequest[]>;
  /**
   * Groups that left maintenance and that this node has not probed since: it must not stand
   * for them before it knows whether a copy it no longer manages still runs here.
   */
  unprobed?: readonly string[];
}

export type Action =
  /** Rank 0 is the most preferred candidate; null means do not try to acquire. */
  | { type: 'candidacy'; group: string; rank: number | null }
  | { type: 'start-group'; group: string }
  /** `release` hands the lease over once stopped; `hold` does not (the lease is already gone). */
  | { type: 'stop-group'; group: string; then: 'release' | 'hold'; reason: string }
  /** The group is already stopped here but the lease is still held. */
  | { type: 'release'; group: string; reason: string }
  | { type: 'restart-resource'; group: string; resource: string; monitor: string }
  | { type: 'mark-failed'; group: string; node: string; reason: string }
  /** A manual move is done (or void): without autoFailback the preference must not pull the group back later. */
  | { type: 'clear-preferred'; group: string }
  | { type: 'alert'; group: string; message: string }
  /** Recovery ran out (the group failed on every node): the group's configured final action, here. */
  | { type: 'final-action'; group: string; action: Exclude<FinalAction, { type: 'none' }> };

export function schedule(snapshot: Snapshot): Action[] {
  const draining = drainTurn(snapshot);
  return snapshot.groups.flatMap((group) => scheduleGroup(snapshot, group, draining));
}

/**
 * On a node in standby, the group whose turn it is to leave (null: none, or not in standby).
 * Groups leave one at a time, in reverse config order (the order the agent stops them in), so
 * the previous one is released before the next one stops: at most one group is down at a time
 * and a group listed after another one it needs never outlives it here. A group counts as
 * here while this node holds its lease; a failed stop waits for its lease to run out instead.
 */
export function drainTurn(s: Snapshot): string | null {
  if (!s.intent.standbyNodes.includes(s.self)) return null;
  for (const group of [...s.groups].reverse()) {
    const phase = s.phases[group.name] ?? 'stopped';
    // An unmanaged group stays; the drain goes on with the others.
    if (inMaintenance(s.intent, group.name)) continue;
    if (s.owners[group.name] === s.self && phase !== 'failed-stop') return group.name;
  }
  return null;
}

interface Ranking {
  /** Usable nodes (up, eligible, not failed, not in standby) in preference order, the preferred node first. */
  candidates: string[];
  /** A pending manual move: the only candidate until it holds the lease. */
  moveTarget: string | null;
}

export function rankCandidates(
  s: Snapshot,
  group: GroupConfig,
  gi: GroupIntent,
  owner: string | null,
): Ranking {
  const members = new Map(s.members.map((m) => [m.name, m]));
  const usable = (node: string) => {
    if (gi.failed.includes(node) || s.intent.standbyNodes.includes(node)) return false;
    const m = members.get(node);
    if (node === s.self) return m?.eligible ?? true;
    return (m?.up && m.eligible) === true;
  };
  const preferred = gi.preferred !== null && group.nodes.includes(gi.preferred) ? gi.preferred : null;
  const order = preferred === null ? group.nodes : [preferred, ...group.nodes.filter((n) => n !== preferred)];
  const candidates = order.filter(usable);
  const moveTarget =
    preferred !== null && candidates.includes(preferred) && owner !== preferred ? preferred : null;
  return { candidates, moveTarget };
}

function scheduleGroup(s: Snapshot, group: GroupConfig, draining: string | null): Action[] {
  const name = group.name;
  const gi = groupIntent(s.intent, name);
  const phase = s.phases[name] ?? 'stopped';
  const owner = s.owners[name] ?? null;
  const isOwner = owner === s.self;
  const suspended = new Set(s.intent.suspended);
  const requests = (s.requests[name] ?? []).filter(
    (r) => r.kind === 'start-failed' || !suspended.has(monitorKey(name, r.monitor)),
  );
  const failedHere = gi.failed.includes(s.self);
  const failing = requests.find((r) => r.kind !== 'restart');
  const { candidates, moveTarget } = rankCandidates(s, group, gi, owner);
  const index = candidates.indexOf(s.self);
  const candidacy = (rank: number | null): Action => ({ type: 'candidacy', group: name, rank });

  // The deadman and the lease's expiry take over; releasing could start the group elsewhere
  // while something of it still runs here.
  if (phase === 'failed-stop') return [candidacy(null)];
  // Unmanaged: everything stays as it is. The owner keeps renewing so the group does not look
  // abandoned; nobody else competes, so a lease that runs out is not taken by anyone.
  if (inMaintenance(s.intent, name)) return [candidacy(isOwner ? 0 : null)];
  // Probes first (like Pacemaker's): after maintenance nobody competes until every node that is
  // up has looked for, and stopped, a copy it no longer holds the lease for.
  const up = new Set(s.members.filter((m) => m.up).map((m) => m.name));
  const unprobed =
    !isOwner &&
    ((s.unprobed ?? []).includes(name) ||
      awaitingProbes(s.intent, name, group.nodes).some((n) => n === s.self || up.has(n)));

  const leaveReason = whyNotHere(s, group, gi, {
    isOwner,
    failing,
    failedHere,
    candidates,
    moveTarget,
    index,
    phase,
    draining,
  });
  const actions: Action[] = [];
  if (isOwner) {
    // An owner keeps renewing (non-null rank) until it has stopped and released.
    actions.push(candidacy(Math.max(0, index)));
  } else {
    actions.push(candidacy(leaveReason === null && index >= 0 && !unprobed ? index : null));
  }

  if (failing && !failedHere) {
    const reason = failing.kind === 'failover' ? failing.reason : `start failed: ${failing.reason}`;
    actions.push({ type: 'mark-failed', group: name, node: s.self, reason });
    if (group.nodes.every((n) => n === s.self || gi.failed.includes(n))) {
      actions.push({
        type: 'alert',
        group: name,
        message: `group ${name} failed on every node; it stays down`,
      });
      const final = group.finalAction;
      if (final !== undefined && final.type !== 'none')
        actions.push({ type: 'final-action', group: name, action: final });
    }
  }

  if (!isOwner) {
    if (phase === 'running')
      actions.push({ type: 'stop-group', group: name, then: 'hold', reason: 'lease lost' });
    return actions;
  }
  if (leaveReason !== null) {
    if (phase === 'running')
      actions.push({ type: 'stop-group', group: name, then: 'release', reason: leaveReason });
    else if (phase === 'stopped') actions.push({ type: 'release', group: name, reason: leaveReason });
    return actions;
  }
  if (phase === 'stopped') actions.push({ type: 'start-group', group: name });
  if (phase === 'running') {
    const seen = new Set<string>();
    for (const r of requests) {
      if (r.kind !== 'restart' || seen.has(r.resource)) continue;
      if (!group.resources.some((res) => res.name === r.resource)) continue;
      seen.add(r.resource);
      actions.push({ type: 'restart-resource', group: name, resource: r.resource, monitor: r.monitor });
    }
    if (!group.autoFailback && gi.preferred !== null) actions.push({ type: 'clear-preferred', group: name });
  }
  return actions;
}

interface Facts {
  isOwner: boolean;
  failing: LocalRequest | undefined;
  failedHere: boolean;
  candidates: string[];
  moveTarget: string | null;
  index: number;
  phase: LocalPhase;
  /** On a node in standby, the group whose turn it is to leave (see drainTurn). */
  draining: string | null;
}

/** Why this node must not run the group (null: it may). */
function whyNotHere(s: Snapshot, group: GroupConfig, gi: GroupIntent, f: Facts): string | null {
  if (gi.state === 'stopped') return 'stopped by admin';
  if (!group.nodes.includes(s.self)) return 'this node is not one of the group nodes';
  if (f.failedHere) return 'marked failed on this node';
  if (f.failing?.kind === 'failover') return `monitor ${f.failing.monitor} failed`;
  if (f.failing?.kind === 'start-failed') return 'start failed';
  if (f.moveTarget !== null && f.moveTarget !== s.self) return `moving to ${f.moveTarget}`;
  if (s.intent.standbyNodes.includes(s.self)) {
    // Like Pacemaker's standby: the group leaves even when no other node can take it (it
    // stops). One running group leaves at a time; one merely held here (stopped) goes at once.
    const leaves = !f.isOwner || f.phase === 'stopped' || f.draining === group.name;
    return leaves ? `node ${s.self} is in standby` : null;
  }
  if (f.index < 0) {
    // Ineligible: give the group away only when someone can take it, else keep it running.
    if (f.candidates.length > 0) return 'node is ineligible';
    return f.isOwner ? null : 'node is ineligible';
  }
  if (f.isOwner && group.autoFailback && f.index > 0) return `failback to ${f.candidates[0]}`;
  return null;
}
