import { setTimeout as sleep } from 'node:timers/promises';
import { describeStateDir, type StateDirHealth } from '../../agent/state-dir.js';
import { apiClient, apiOptions } from '../api-client.js';
import type { Command } from '../command.js';
import { table } from '../table.js';

interface StatusDoc {
  cluster: string;
  node: string;
  quorum: boolean;
  /** Absent from agents that predate maintenance mode. */
  maintenance?: boolean;
  /** `standby` is absent from agents that predate it. */
  nodes: Array<{
    name: string;
    up: boolean;
    eligible: boolean;
    reasons: string[];
    self: boolean;
    standby?: boolean;
  }>;
  witness: { up: boolean } | null;
  groups: Array<{
    name: string;
    owner: string | null;
    state: string;
    since: string;
    lastError: string | null;
    /** Absent from agents that predate maintenance mode. */
    maintenance?: boolean;
    intent: {
      state: string;
      failedNodes: string[];
      /** Absent from agents that predate failure timeouts. */
      failures?: Record<string, { expiresAt: string | null; expired: boolean }>;
    };
    resources: Array<{
      name: string;
      type: string;
      state: string;
      lastError: string | null;
      pendingParams: Record<string, unknown>;
    }>;
    monitors: Array<{ key: string; state: string; lastOutput: string | null }>;
    /** Absent from agents that predate it. */
    onNodes?: Array<{ node: string; state: string | null; since: string | null; lastError: string | null }>;
    lastFailover: {
      reason: string;
      from: string | null;
      to: string | null;
      totalMs: number;
      complete: boolean;
      steps: Array<{ phase: string; node: string; durationMs: number }>;
    } | null;
  }>;
  monitors: Array<{ key: string; state: string; lastOutput: string | null }>;
  stateDir?: StateDirHealth | null;
  alerts?: Array<{ name: string; type: string; failed: number; dropped: number; lastError: string | null }>;
}

export function renderStatus(s: StatusDoc): string {
  const lines = [
    `cluster ${s.cluster} — seen from ${s.node} — quorum: ${s.quorum ? 'yes' : 'NO'}${s.maintenance ? ' — MAINTENANCE: no group is managed' : ''}`,
    '',
  ];
  // Only when it matters: a full or unwritable state dir makes this node refuse intent writes.
  if (s.stateDir && s.stateDir.level !== 'ok')
    lines.splice(1, 0, `state dir: ${describeStateDir(s.stateDir)}`);
  // Likewise only receivers that lost alerts: the operator would otherwise not learn of a failover.
  for (const a of (s.alerts ?? []).filter((r) => r.failed > 0 || r.dropped > 0).reverse())
    lines.splice(
      1,
      0,
      `alerts to ${a.name} (${a.type}): ${a.failed} failed, ${a.dropped} dropped${a.lastError ? ` — last error: ${a.lastError}` : ''}`,
    );
  const nodeRows = s.nodes.map((n) => [
    n.name + (n.self ? ' (this node)' : ''),
    n.up ? 'up' : 'DOWN',
    n.eligible ? 'yes' : `no: ${n.reasons.join('; ')}`,
    nodeMode(s, n.name, n.standby === true),
  ]);
  if (s.witness) nodeRows.push(['witness', s.witness.up ? 'up' : 'DOWN', '-', '-']);
  lines.push(table(['NODE', 'STATE', 'ELIGIBLE', 'MODE'], nodeRows), '');
  lines.push(groupTable(s));
  for (const g of s.groups) {
    lines.push('', `group ${g.name}:${g.maintenance ? ' MAINTENANCE (unmanaged: left as it is)' : ''}`);
    lines.push(
      table(
        ['  RESOURCE', 'TYPE', 'STATE', 'NOTE'],
        g.resources.map((r) => [
          `  ${r.name}`,
          r.type,
          r.state,
          [
            r.lastError ?? '',
            Object.keys(r.pendingParams).length
              ? `pending until restart: ${Object.keys(r.pendingParams).join(', ')}`
              : '',
          ]
            .filter(Boolean)
            .join('; '),
        ]),
      ),
    );
    if (g.monitors.length)
      lines.push(
        table(
          ['  MONITOR', 'STATE', 'LAST OUTPUT'],
          g.monitors.map((m) => [`  ${m.key}`, m.state, oneLine(m.lastOutput)]),
        ),
      );
    if (g.lastFailover) {
      const f = g.lastFailover;
      const phases = f.steps.map((p) => `${p.phase}@${p.node} +${p.durationMs}ms`).join(' → ');
      lines.push(
        `  last failover ${f.from ?? '?'} → ${f.to ?? '?'}: ${f.totalMs} ms${f.complete ? '' : ' (in progress)'} — ${f.reason}`,
        `    ${phases}`,
      );
    }
  }
  if (s.monitors.length)
    lines.push(
      '',
      table(
        ['NODE MONITOR', 'STATE', 'LAST OUTPUT'],
        s.monitors.map((m) => [m.key, m.state, oneLine(m.lastOutput)]),
      ),
    );
  return `${lines.join('\n')}\n`;
}

type GroupDoc = StatusDoc['groups'][number];

/** `standby` once drained; while it still owns groups, which ones are yet to move away. */
function nodeMode(s: StatusDoc, node: string, standby: boolean): string {
  if (!standby) return 'active';
  const held = s.groups.filter((g) => g.owner === node).map((g) => g.name);
  return held.length ? `standby, draining: ${held.join(', ')}` : 'standby';
}

/**
 * One row per group: its cluster-wide state (the owner's own phase, which only the owner
 * knows), then each node's own phase as that node answered the asking one. `?`: the node is
 * down or did not answer; `-`: the group may not run there.
 */
function groupTable(s: StatusDoc): string {
  const names = s.nodes.map((n) => n.name);
  return table(
    ['GROUP', 'OWNER', 'STATE', ...names, 'SINCE', 'NOTE'],
    s.groups.map((g) => {
      const on = onNodes(g, s.node);
      const owner = g.owner === null ? undefined : on.find((n) => n.node === g.owner);
      const errors = on.filter((n) => n.lastError).map((n) => `${n.node}: ${n.lastError}`);
      return [
        g.name,
        g.owner ?? '-',
        groupState(g, on),
        ...names.map((name) => {
          const n = on.find((x) => x.node === name);
          return n === undefined ? '-' : (n.state ?? '?');
        }),
        owner?.since ?? g.since,
        [g.maintenance ? 'MAINTENANCE' : '', errors.join('; ') || failedNote(g)].filter(Boolean).join('; '),
      ];
    }),
  );
}

/** `failed on n1 (until 10:42:07)`: when a mark expires, the note says until when it counts. */
function failedNote(g: GroupDoc): string {
  if (g.intent.failedNodes.length === 0) return '';
  const nodes = g.intent.failedNodes.map((n) => {
    const at = g.intent.failures?.[n]?.expiresAt;
    return at ? `${n} (until ${at.slice(11, 19)}Z)` : n;
  });
  return `failed on ${nodes.join(', ')}`;
}

/** The per-node view; from an agent that predates it, this node's own phase only. */
function onNodes(g: GroupDoc, self: string): NonNullable<GroupDoc['onNodes']> {
  return g.onNodes ?? [{ node: self, state: g.state, since: g.since, lastError: g.lastError }];
}

export function groupState(g: GroupDoc, on: NonNullable<GroupDoc['onNodes']>): string {
  if (g.intent.state === 'stopped') return 'stopped (admin)';
  if (g.owner !== null) {
    const state = on.find((n) => n.node === g.owner)?.state;
    return state ? state : `? (owner ${g.owner} did not answer)`;
  }
  // No lease holder: nothing may run, but a node may still be stopping what it had.
  const busy = on.filter((n) => n.state !== null && n.state !== 'stopped');
  return busy.length ? busy.map((n) => `${n.state} on ${n.node}`).join(', ') : 'stopped';
}

const oneLine = (text: string | null) => (text ?? '').replace(/\s+/g, ' ').slice(0, 60);

export const statusCommand: Command = {
  words: ['status'],
  summary: 'Nodes, groups, resources, monitors and pending changes.',
  options: {
    ...apiOptions,
    json: { type: 'boolean', description: 'Print the status document as JSON.' },
    watch: { type: 'boolean', short: 'w', description: 'Redraw every second until Ctrl-C.' },
  },
  async run(ctx) {
    const client = await apiClient(ctx);
    do {
      const status = await client.request<StatusDoc>('GET', '/v1/status');
      if (ctx.options['json']) ctx.stdout(`${JSON.stringify(status, null, 2)}\n`);
      else ctx.stdout(`${ctx.options['watch'] ? '\x1b[2J\x1b[H' : ''}${renderStatus(status)}`);
      if (ctx.options['watch']) await sleep(1000, undefined, { signal: ctx.signal }).catch(() => undefined);
    } while (ctx.options['watch'] && !ctx.signal.aborted);
    return 0;
  },
};
