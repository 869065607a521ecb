import type { AlertKind, AlertReceiverCommon, AlertSeverity } from '../config/model.js';
import type { HaloEvent } from '../engine/event-log.js';

/**
 * What a receiver is told. Field names follow Pacemaker's alert agents (CRM_alert_*,
 * https://clusterlabs.org/pacemaker/doc/ "Alert Agents") so its sample agents work; the
 * Halo-only fields (group, old and new owner, the event) ride along.
 */
export interface Alert {
  /** Node, resource, fencing or attribute (CRM_alert_kind). */
  kind: AlertKind;
  severity: AlertSeverity;
  /** Short name of what happened: failover, start, stop, monitor, lease-lost, fence, … */
  task: string;
  /** The node the alert is about (CRM_alert_node). */
  node: string;
  /** The resource (or the group for group-wide operations) (CRM_alert_rsc). */
  rsc: string;
  /** Pacemaker-style description: "OK", "Error", "lost", "member", … (CRM_alert_desc). */
  desc: string;
  /** 0 = the operation was executed, 1 = it failed to execute (Pacemaker's execution status). */
  status: number;
  /** The agent's result code (OCF: 0 ok, 1 generic error, 7 not running). */
  rc: number;
  /** The result code expected (0 for start/stop/monitor). */
  targetRc: number;
  /** Wall-clock ms of the event. */
  at: number;
  /** Event sequence number on `reporter` (CRM_alert_node_sequence). */
  sequence: number;
  /** The node that saw this and sends the alert. */
  reporter: string;
  cluster: string;
  group?: string;
  /** Failovers: where the group ran before and where it runs now. */
  oldNode?: string;
  newNode?: string;
  /** The event's full message. */
  message: string;
}

const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

/** Whether a receiver wants this alert (kind filter and minimum severity). */
export function wanted(receiver: Pick<AlertReceiverCommon, 'kinds' | 'minSeverity'>, alert: Alert): boolean {
  if (receiver.kinds.length > 0 && !receiver.kinds.includes(alert.kind)) return false;
  return SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[receiver.minSeverity];
}

/**
 * Maps an event of the log to an alert, or null when it does not alert. Pure. The engine's
 * events are the one source: an alert never needs its own hook in the decision path.
 */
export function alertOf(event: HaloEvent, cluster: string): Alert | null {
  const base = {
    node: event.node,
    rsc: event.resource ?? event.group ?? '',
    status: 0,
    rc: 0,
    targetRc: 0,
    at: Date.parse(event.ts),
    sequence: event.seq,
    reporter: event.node,
    cluster,
    message: event.message,
    ...(event.group !== undefined ? { group: event.group } : {}),
  };
  const d = event.details ?? {};
  const m = event.message;
  switch (event.type) {
    case 'group': {
      // fencing: stonith — this node powered the old owner off (or failed to): a fencing alert
      // about the target node, as Pacemaker's st_notify_fence.
      const stonith = d['stonith'] as { target?: unknown; phase?: unknown } | undefined;
      if (stonith !== undefined && (stonith.phase === 'fenced' || stonith.phase === 'failed')) {
        const target = typeof stonith.target === 'string' ? stonith.target : '?';
        const ok = stonith.phase === 'fenced';
        return {
          ...base,
          node: target,
          kind: 'fencing',
          severity: 'critical',
          task: 'off',
          desc: `Operation off of ${target} by ${event.node} for group ${event.group ?? '?'}: ${ok ? 'OK' : 'Error'}`,
          rc: ok ? 0 : 1,
        };
      }
      if (stonith !== undefined) return null;
      if (d['started'] === true) {
        const oldNode = typeof d['previousOwner'] === 'string' ? d['previousOwner'] : undefined;
        if (oldNode === undefined || oldNode === event.node) return null;
        return {
          ...base,
          kind: 'resource',
          severity: 'warning',
          task: 'failover',
          rsc: event.group ?? '',
          desc: `OK (failover from ${oldNode})`,
          oldNode,
          newNode: event.node,
        };
      }
      if (d['startFailed'] === true)
        return {
          ...base,
          kind: 'resource',
          severity: 'critical',
          task: 'start',
          desc: 'Error',
          status: 0,
          rc: 1,
        };
      if (event.level === 'error')
        return { ...base, kind: 'resource', severity: 'critical', task: 'group', desc: 'Error', rc: 1 };
      return null;
    }
    case 'alert':
      // Failed stops (fencing follows), "keeps failing" monitors with onFailure: alert, and
      // groups failed on every node.
      if (d['stopFailed'] === true)
        return { ...base, kind: 'resource', severity: 'critical', task: 'stop', desc: 'Error', rc: 1 };
      return {
        ...base,
        kind: 'resource',
        severity: 'critical',
        task: event.monitor !== undefined ? 'monitor' : 'alert',
        desc: 'Error',
        rc: 1,
      };
    case 'monitor':
      if (event.level === 'info') return null;
      return {
        ...base,
        kind: 'resource',
        severity: 'warning',
        task: 'monitor',
        rsc: event.resource ?? event.monitor ?? event.group ?? '',
        desc: /timeout/.test(m) ? 'Timed Out' : 'not running',
        status: /timeout/.test(m) ? 2 : 0,
        rc: 7,
      };
    case 'recovery':
      if (event.level !== 'error') return null;
      return { ...base, kind: 'resource', severity: 'critical', task: 'restart', desc: 'Error', rc: 1 };
    case 'lease':
      // After a failed stop the lease is left to run out: the deadman helper fences this node's
      // copy of the group at the deadline (ADR 0003). That is this node being fenced.
      if (/ ran out after the failed stop/.test(m))
        return {
          ...base,
          kind: 'fencing',
          severity: 'critical',
          task: 'deadman',
          desc: `of ${event.node} by the deadman helper: the lease of ${event.group ?? '?'} ran out after a failed stop`,
        };
      if (/ lost: /.test(m))
        return { ...base, kind: 'node', severity: 'critical', task: 'lease-lost', desc: 'lost' };
      return null;
    case 'agent': {
      const deadman = d['deadman'] as { state?: string } | undefined;
      if (deadman !== undefined) {
        // The deadman helper is Halo's fencing: it kills resources at the lease deadline.
        return {
          ...base,
          kind: 'fencing',
          severity: event.level === 'error' ? 'critical' : 'warning',
          task: 'deadman',
          desc: `by deadman on ${event.node}: ${m}`,
          rc: event.level === 'error' ? 1 : 0,
        };
      }
      if (d['membership'] !== undefined) {
        const up = (d['membership'] as { up?: boolean }).up === true;
        return {
          ...base,
          node: typeof d['member'] === 'string' ? d['member'] : event.node,
          kind: 'node',
          severity: up ? 'info' : 'warning',
          task: up ? 'join' : 'leave',
          desc: up ? 'member' : 'lost',
        };
      }
      if (d['quorum'] !== undefined) {
        const has = d['quorum'] === true;
        return {
          ...base,
          kind: 'node',
          severity: has ? 'info' : 'critical',
          task: has ? 'quorum-regained' : 'quorum-lost',
          desc: has ? 'quorum' : 'lost quorum',
        };
      }
      return null;
    }
    default:
      return null;
  }
}
