import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { HaloConfig } from '../config/model.js';
import { type ErrorBody, HaloError } from '../errors.js';
import { DEFAULT_KEEPALIVE, installClientKeepalive } from '../net/keepalive.js';
import type { CommandContext, OptionSpec } from './command.js';

/** Options every command that talks to an agent accepts. */
export const apiOptions: Record<string, OptionSpec> = {
  api: {
    type: 'string',
    description: 'Agent API URL (default: HALO_API, else this node from -c).',
    valueName: 'URL',
  },
  config: {
    type: 'string',
    short: 'c',
    description: 'Config file used to find the local agent and the token.',
    valueName: 'FILE',
  },
  node: {
    type: 'string',
    description: "With -c: the node whose agent to ask (default: the node whose address is this machine's).",
    valueName: 'NAME',
  },
  'token-file': {
    type: 'string',
    description: 'File with the API token (default: HALO_TOKEN, else the config tokenFile).',
    valueName: 'FILE',
  },
};

/** The API tells HTTP clients to send an Authorization header; a CLI user passes a token file. */
const CLI_TOKEN_HINT =
  'the token is missing or wrong; pass --token-file FILE (the agent writes STATE_DIR/api.token) or set HALO_TOKEN';

export interface ApiClient {
  url: string;
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  stream(path: string, onEvent: (data: unknown) => void, signal: AbortSignal): Promise<void>;
}

/**
 * The config file, read only when the agent's address or the token must come from it: the
 * catalog that checks a config is most of what a CLI call would load otherwise, and
 * `halo status --api URL` needs none of it.
 */
async function readConfig(file: string): Promise<HaloConfig> {
  const { loadConfig } = await import('../engine/config-catalog.js');
  return loadConfig(file, { checkFiles: false });
}

export async function apiClient(ctx: CommandContext): Promise<ApiClient> {
  const configFile =
    (ctx.options['config'] as string | undefined) ?? (ctx.env['HALO_API'] ? undefined : defaultConfig());
  const config =
    configFile && !(ctx.options['api'] ?? ctx.env['HALO_API']) ? await readConfig(configFile) : undefined;
  const url = (
    (ctx.options['api'] as string | undefined) ??
    ctx.env['HALO_API'] ??
    (config ? localAgentUrl(config, configFile!, ctx.options['node'] as string | undefined) : undefined)
  )?.replace(/\/$/, '');
  if (!url)
    throw new HaloError(
      'HALO_E_USAGE',
      'cannot find the agent: pass --api URL, set HALO_API, or pass -c FILE',
    );
  installClientKeepalive(config?.cluster.keepalive ?? DEFAULT_KEEPALIVE);
  const token = await readToken(ctx, configFile, config);
  const headers = (extra: Record<string, string> = {}) => ({
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  });

  return {
    url,
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(url + path, {
          method,
          headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        throw new HaloError(
          'HALO_E_AGENT_UNREACHABLE',
          `cannot reach the agent at ${url}: ${(err as Error).cause ?? (err as Error).message}`,
        );
      }
      const text = await res.text();
      const data = text ? JSON.parse(text) : undefined;
      if (!res.ok) {
        const e = (data as { error?: ErrorBody } | undefined)?.error;
        if (e?.code === 'HALO_E_UNAUTHORIZED')
          throw new HaloError(
            'HALO_E_UNAUTHORIZED',
            `the agent at ${url} refused the API token: ${CLI_TOKEN_HINT}`,
          );
        throw new HaloError(e?.code ?? 'HALO_E_INTERNAL', e?.message ?? `HTTP ${res.status}`, e?.details);
      }
      return data as T;
    },
    async stream(path, onEvent, signal) {
      let res: Response;
      try {
        res = await fetch(url + path, { headers: headers({ accept: 'text/event-stream' }), signal });
      } catch (err) {
        if (signal.aborted) return;
        throw new HaloError(
          'HALO_E_AGENT_UNREACHABLE',
          `cannot reach the agent at ${url}: ${(err as Error).message}`,
        );
      }
      if (!res.ok || !res.body)
        throw new HaloError(
          'HALO_E_UNAUTHORIZED',
          `HTTP ${res.status} from ${url}${path}${res.status === 401 ? `: ${CLI_TOKEN_HINT}` : ''}`,
        );
      let buffer = '';
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (data) onEvent(JSON.parse(data));
            end = buffer.indexOf('\n\n');
          }
        }
      } catch (err) {
        if (!signal.aborted) throw err;
      }
    },
  };
}

function defaultConfig(): string | undefined {
  return existsSync('/etc/halo/halo.yaml') ? '/etc/halo/halo.yaml' : undefined;
}

/**
 * The agent to ask: the node named with --node, else the node whose address is one of this
 * machine's. A machine that is no node must say which one: silently trying 127.0.0.1 would
 * reach nothing, or the wrong agent.
 */
function localAgentUrl(config: HaloConfig, file: string, name: string | undefined): string {
  const scheme = config.cluster.api.tls ? 'https' : 'http';
  const names = config.nodes.map((n) => n.name).join(', ');
  if (name !== undefined) {
    const node = config.nodes.find((n) => n.name === name);
    if (!node)
      throw new HaloError('HALO_E_USAGE', `--node ${name} is not a node of ${file} (nodes: ${names})`);
    return `${scheme}://${node.address}:${node.apiPort}`;
  }
  const mine = new Set(
    Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)),
  );
  const node = config.nodes.find((n) => mine.has(n.address));
  if (!node)
    throw new HaloError(
      'HALO_E_USAGE',
      `this machine is not one of the nodes of ${file} (none of its node addresses is on this machine; nodes: ${names}); pass --node NAME to ask that node's agent, or --api URL`,
    );
  return `${scheme}://${node.address}:${node.apiPort}`;
}

async function readToken(
  ctx: CommandContext,
  configFile: string | undefined,
  config: HaloConfig | undefined,
): Promise<string | undefined> {
  const file = ctx.options['token-file'] as string | undefined;
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new HaloError(
        'HALO_E_SECRET',
        `cannot read the token file ${file} given with --token-file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  }
  if (ctx.env['HALO_TOKEN']) return ctx.env['HALO_TOKEN'].trim();
  if (configFile) {
    const tokenFile = (config ?? (await readConfig(configFile))).cluster.api.tokenFile;
    if (tokenFile && existsSync(tokenFile)) return readFileSync(tokenFile, 'utf8').trim();
  }
  return undefined;
}
