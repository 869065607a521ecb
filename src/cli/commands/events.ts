import { apiClient, apiOptions } from '../api-client.js';
import type { Command } from '../command.js';

interface EventDoc {
  seq: number;
  ts: string;
  node: string;
  type: string;
  level?: string;
  group?: string;
  resource?: string;
  monitor?: string;
  message: string;
  output?: string;
}

export function renderEvent(e: EventDoc): string {
  // Group monitors' keys already start with the group ("web/alive").
  const item = e.resource ?? e.monitor;
  const where =
    item && e.group && item.startsWith(`${e.group}/`) ? item : [e.group, item].filter(Boolean).join('/');
  const output = e.output ? `\n    ${e.output.trimEnd().split('\n').join('\n    ')}` : '';
  return `${e.ts} ${e.node} ${e.type}${where ? ` ${where}` : ''}: ${e.message}${output}\n`;
}

export const eventsCommand: Command = {
  words: ['events'],
  summary: 'Recent events of this node (state changes, failed operations with their output).',
  options: {
    ...apiOptions,
    follow: { type: 'boolean', short: 'f', description: 'Keep printing new events until Ctrl-C.' },
    json: { type: 'boolean', description: 'One JSON object per line.' },
    limit: { type: 'string', description: 'How many recent events (default 50).', valueName: 'N' },
  },
  async run(ctx) {
    const client = await apiClient(ctx);
    const print = (e: unknown) =>
      ctx.stdout(ctx.options['json'] ? `${JSON.stringify(e)}\n` : renderEvent(e as EventDoc));
    const limit = Number(ctx.options['limit'] ?? 50) || 50;
    const controller = new AbortController();
    ctx.signal.addEventListener('abort', () => controller.abort(), { once: true });
    const follow = ctx.options['follow'] ? '' : '&follow=0';
    await client.stream(`/v1/events?history=${limit}${follow}`, print, controller.signal);
    return 0;
  },
};
