import { join } from 'node:path';

/**
 * Where OCF agents live: `$OCF_ROOT/resource.d/PROVIDER/TYPE` (OCF Resource Agent API §3).
 * OCF_ROOT defaults to /usr/lib/ocf, where Debian's `resource-agents` installs them; the
 * agent's own OCF_ROOT environment variable overrides it (tests use a directory of their own).
 */
export const DEFAULT_OCF_ROOT = '/usr/lib/ocf';

export function ocfRoot(env: NodeJS.ProcessEnv = process.env): string {
  const root = env['OCF_ROOT'];
  return root?.startsWith('/') ? root : DEFAULT_OCF_ROOT;
}

/** One name segment: no slashes, not `.` or `..` (a provider or type must not leave resource.d). */
const SEGMENT = /^(?!\.{1,2}$)[A-Za-z0-9_.+-]+$/;

export const AGENT_PATTERN = /^ocf:[A-Za-z0-9_.+-]+:[A-Za-z0-9_.+-]+$/;

export interface AgentName {
  /** As written: `ocf:heartbeat:IPaddr2`. */
  spec: string;
  provider: string;
  type: string;
}

/** Parses `ocf:PROVIDER:TYPE`; undefined when it is not one. */
export function parseAgent(spec: string): AgentName | undefined {
  const parts = spec.split(':');
  if (parts.length !== 3 || parts[0] !== 'ocf') return undefined;
  const [, provider, type] = parts as [string, string, string];
  if (!SEGMENT.test(provider) || !SEGMENT.test(type)) return undefined;
  return { spec, provider, type };
}

export function agentPath(agent: AgentName, root = ocfRoot()): string {
  return join(root, 'resource.d', agent.provider, agent.type);
}
