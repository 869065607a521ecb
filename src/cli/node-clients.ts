import type { HaloConfig } from '../config/model.js';
import { type ApiClient, apiClient } from './api-client.js';
import type { CommandContext } from './command.js';

/** Each node is reached where it runs now (CURRENT), falling back to FILE for a new node. */
export function clientFor(
  ctx: CommandContext,
  current: HaloConfig,
  next: HaloConfig,
  node: string,
  tokenConfig: string,
): Promise<ApiClient> {
  const conf = current.nodes.some((n) => n.name === node) ? current : next;
  const n = conf.nodes.find((x) => x.name === node)!;
  const host = n.address.includes(':') ? `[${n.address}]` : n.address;
  const scheme = conf.cluster.api.tls ? 'https' : 'http';
  return apiClient({
    ...ctx,
    options: { ...ctx.options, config: tokenConfig, api: `${scheme}://${host}:${n.apiPort}` },
  });
}
