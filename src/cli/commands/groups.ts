import { apiClient, apiOptions } from '../api-client.js';
import type { Command } from '../command.js';

interface Accepted {
  ok: boolean;
  message: string;
}

const json = { json: { type: 'boolean', description: 'Print the API answer as JSON.' } } as const;

function done(ctx: Parameters<Command['run']>[0], answer: Accepted): number {
  ctx.stdout(ctx.options['json'] ? `${JSON.stringify(answer)}\n` : `${answer.message}\n`);
  return 0;
}

export const moveCommand: Command = {
  words: ['move'],
  summary: 'Move a group to NODE (or to the next best node): stop here, hand the lease over, start there.',
  args: 'GROUP [NODE]',
  arity: [1, 2],
  options: { ...apiOptions, ...json },
  async run(ctx) {
    const [group, to] = ctx.positionals;
    return done(
      ctx,
      await apiClient(ctx).request<Accepted>(
        'POST',
        `/v1/groups/${encodeURIComponent(group!)}/move`,
        to ? { to } : {},
      ),
    );
  },
};

export const startCommand: Command = {
  words: ['start'],
  summary: 'Start a stopped group (on NODE with --on).',
  args: 'GROUP',
  arity: [1, 1],
  options: {
    ...apiOptions,
    ...json,
    on: { type: 'string', description: 'Preferred node to start it on.', valueName: 'NODE' },
  },
  async run(ctx) {
    const on = ctx.options['on'] as string | undefined;
    return done(
      ctx,
      await apiClient(ctx).request<Accepted>(
        'POST',
        `/v1/groups/${encodeURIComponent(ctx.positionals[0]!)}/start`,
        on ? { on } : {},
      ),
    );
  },
};

export const stopCommand: Command = {
  words: ['stop'],
  summary: 'Stop a group everywhere; it stays stopped (across restarts) until `halo start`.',
  args: 'GROUP',
  arity: [1, 1],
  options: { ...apiOptions, ...json },
  async run(ctx) {
    return done(
      ctx,
      await apiClient(ctx).request<Accepted>(
        'POST',
        `/v1/groups/${encodeURIComponent(ctx.positionals[0]!)}/stop`,
        {},
      ),
    );
  },
};

export const monitorSuspendCommand: Command = {
  words: ['monitor', 'suspend'],
  summary: 'Suspend a monitor (GROUP/MONITOR for a group monitor) everywhere until resumed.',
  args: 'NAME',
  arity: [1, 1],
  options: { ...apiOptions, ...json },
  async run(ctx) {
    return done(
      ctx,
      await apiClient(ctx).request<Accepted>(
        'POST',
        `/v1/monitors/${encodeURIComponent(ctx.positionals[0]!)}/suspend`,
      ),
    );
  },
};

export const monitorResumeCommand: Command = {
  words: ['monitor', 'resume'],
  summary: 'Resume a suspended monitor.',
  args: 'NAME',
  arity: [1, 1],
  options: { ...apiOptions, ...json },
  async run(ctx) {
    return done(
      ctx,
      await apiClient(ctx).request<Accepted>(
        'POST',
        `/v1/monitors/${encodeURIComponent(ctx.positionals[0]!)}/resume`,
      ),
    );
  },
};
