import { HaloError } from '../../errors.js';
import { apiClient, apiOptions } from '../api-client.js';
import type { Command, CommandContext, OptionSpec } from '../command.js';

interface Accepted {
  ok: boolean;
  message: string;
}

/**
 * Operations that POST to the agent and print its one-line answer (or the JSON with --json):
 * move, start, stop, monitor suspend/resume, node standby/unstandby, maintenance on/off. Each only says which path
 * and body to send.
 */
function operation(spec: {
  words: string[];
  summary: string;
  details?: string;
  args: string;
  arity: [number, number];
  options?: Record<string, OptionSpec>;
  request: (ctx: CommandContext) => { path: string; body?: unknown };
}): Command {
  return {
    words: spec.words,
    summary: spec.summary,
    ...(spec.details ? { details: spec.details } : {}),
    args: spec.args,
    arity: spec.arity,
    options: {
      ...apiOptions,
      json: { type: 'boolean', description: 'Print the API answer as JSON.' },
      ...(spec.options ?? {}),
    },
    async run(ctx) {
      const { path, body } = spec.request(ctx);
      const answer = await (await apiClient(ctx)).request<Accepted>('POST', path, body);
      ctx.stdout(ctx.options['json'] ? `${JSON.stringify(answer)}\n` : `${answer.message}\n`);
      return 0;
    },
  };
}

const groupPath = (ctx: CommandContext, verb: string) =>
  `/v1/groups/${encodeURIComponent(ctx.positionals[0]!)}/${verb}`;
const monitorPath = (ctx: CommandContext, verb: string) =>
  `/v1/monitors/${encodeURIComponent(ctx.positionals[0]!)}/${verb}`;

export const moveCommand = operation({
  words: ['move'],
  summary: 'Move a group to NODE (or to the next best node): stop here, hand the lease over, start there.',
  args: 'GROUP [NODE]',
  arity: [1, 2],
  request: (ctx) => {
    const to = ctx.positionals[1];
    return { path: groupPath(ctx, 'move'), body: to ? { to } : {} };
  },
});

export const startCommand = operation({
  words: ['start'],
  summary:
    'Start a stopped group (on NODE with --on). It also clears failure marks; `halo cleanup` is the command for that.',
  args: 'GROUP',
  arity: [1, 1],
  options: { on: { type: 'string', description: 'Preferred node to start it on.', valueName: 'NODE' } },
  request: (ctx) => {
    const on = ctx.options['on'] as string | undefined;
    return { path: groupPath(ctx, 'start'), body: on ? { on } : {} };
  },
});

export const stopCommand = operation({
  words: ['stop'],
  summary: 'Stop a group everywhere; it stays stopped (across restarts) until `halo start`.',
  args: 'GROUP',
  arity: [1, 1],
  request: (ctx) => ({ path: groupPath(ctx, 'stop'), body: {} }),
});

export const cleanupCommand = operation({
  words: ['cleanup'],
  summary:
    'Clear the failure history of a group (or of one of its resources): failure marks, monitor failure and restart counts, a failed stop; the nodes probe it again (all nodes, or NODE with --node).',
  args: 'GROUP[/RESOURCE]',
  arity: [1, 1],
  options: {
    node: { type: 'string', description: 'Only on this node.', valueName: 'NODE' },
  },
  request: (ctx) => {
    const m = /^([^/]+)(?:\/([^/]+))?$/.exec(ctx.positionals[0]!);
    if (!m)
      throw new HaloError('HALO_E_USAGE', `expected GROUP or GROUP/RESOURCE, got "${ctx.positionals[0]}"`);
    const node = ctx.options['node'] as string | undefined;
    return {
      path: `/v1/groups/${encodeURIComponent(m[1]!)}/cleanup`,
      body: { ...(m[2] !== undefined ? { resource: m[2] } : {}), ...(node ? { node } : {}) },
    };
  },
});

export const monitorSuspendCommand = operation({
  words: ['monitor', 'suspend'],
  summary: 'Suspend a monitor (GROUP/MONITOR for a group monitor) everywhere until resumed.',
  args: 'NAME',
  arity: [1, 1],
  request: (ctx) => ({ path: monitorPath(ctx, 'suspend') }),
});

export const monitorResumeCommand = operation({
  words: ['monitor', 'resume'],
  summary: 'Resume a suspended monitor.',
  args: 'NAME',
  arity: [1, 1],
  request: (ctx) => ({ path: monitorPath(ctx, 'resume') }),
});

const nodePath = (ctx: CommandContext, verb: string) =>
  `/v1/nodes/${encodeURIComponent(ctx.positionals[0]!)}/${verb}`;

export const nodeStandbyCommand = operation({
  words: ['node', 'standby'],
  summary: 'Drain NODE: its groups move away one at a time, and it takes none until `halo node unstandby`.',
  details:
    'Cluster-wide intent, kept across restarts of any node. A group that no other node can take stops (as in Pacemaker). The answer names the groups that move and those that stop; follow the moves with `halo status` or `halo events`.',
  args: 'NODE',
  arity: [1, 1],
  request: (ctx) => ({ path: nodePath(ctx, 'standby'), body: {} }),
});

export const nodeUnstandbyCommand = operation({
  words: ['node', 'unstandby'],
  summary: 'Take NODE out of standby: it may take groups again (they move back only with autoFailback).',
  args: 'NODE',
  arity: [1, 1],
  request: (ctx) => ({ path: nodePath(ctx, 'unstandby'), body: {} }),
});

/** GROUP given: that group's maintenance; none: the whole cluster's. */
const maintenanceRequest = (ctx: CommandContext, on: boolean) => {
  const group = ctx.positionals[0];
  return {
    path: group === undefined ? '/v1/cluster/maintenance' : groupPath(ctx, 'maintenance'),
    body: { on },
  };
};

export const maintenanceOnCommand = operation({
  words: ['maintenance', 'on'],
  summary:
    'Unmanage GROUP (without GROUP: every group): its resources are left exactly as they are until `halo maintenance off`.',
  details:
    "Cluster-wide intent, kept across restarts of any node. Nothing of the group is started, stopped, moved or recovered, its monitors are suspended and probes skipped (without GROUP, node-level monitors too). The deadman honours it: a kill -9 or crash of the owner's agent leaves the resources running, unsupervised.",
  args: '[GROUP]',
  arity: [0, 1],
  request: (ctx) => maintenanceRequest(ctx, true),
});

export const maintenanceOffCommand = operation({
  words: ['maintenance', 'off'],
  summary:
    'Manage GROUP again (without GROUP: the cluster): each node probes it first; a copy found without the lease is stopped.',
  args: '[GROUP]',
  arity: [0, 1],
  request: (ctx) => maintenanceRequest(ctx, false),
});
