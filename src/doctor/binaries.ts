import type { HaloConfig, NodeConfig } from '../config/model.js';
import { formatPath } from '../config/problems.js';
import { findSetpriv, SETPRIV_PATHS } from '../engine/exec/index.js';
import { findOnPath } from './exec.js';
import type { CheckResult } from './types.js';

/** Programs resource types run, with the Debian package that has them. */
const NEEDS: Record<string, Array<{ bin: string; pkg: string; why: string }>> = {
  ip: [
    { bin: 'ip', pkg: 'iproute2', why: 'adds and removes the floating address' },
    { bin: 'arping', pkg: 'iputils-arping', why: 'announces the address with gratuitous ARP' },
  ],
  'aws-route-vip': [{ bin: 'ip', pkg: 'iproute2', why: 'adds the VIP to the local device' }],
  dns: [{ bin: 'nsupdate', pkg: 'bind9-dnsutils', why: 'sends the RFC 2136 update' }],
};

/** Only for the resource types of groups this node may run. */
export function checkBinaries(
  config: HaloConfig,
  self: NodeConfig,
  find: (bin: string) => string | undefined = findOnPath,
): CheckResult[] {
  const wanted = new Map<string, { pkg: string; why: string; users: string[] }>();
  for (const g of config.groups) {
    if (!g.nodes.includes(self.name)) continue;
    for (const r of g.resources) {
      if (r.type === 'aws-route-vip' && (r.params as { localAddress?: boolean }).localAddress === false)
        continue;
      for (const need of NEEDS[r.type] ?? []) {
        const entry = wanted.get(need.bin) ?? { pkg: need.pkg, why: need.why, users: [] };
        entry.users.push(`${g.name}/${r.name}`);
        wanted.set(need.bin, entry);
      }
    }
  }
  return [...wanted].map(([bin, { pkg, why, users }]) => {
    const base = { id: `binary:${bin}`, title: `Program ${bin}` };
    const path = find(bin);
    return path
      ? { ...base, status: 'pass' as const, message: `${path} (for ${users.join(', ')})` }
      : {
          ...base,
          status: 'fail' as const,
          message: `not found on PATH; ${users.join(', ')} need it: it ${why}`,
          fix: [`apt-get install ${pkg}`],
        };
  });
}

/**
 * `user:` on a command this node may run: the agent switches user through `setpriv
 * --init-groups` (util-linux), which keeps the user's supplementary groups. Without setpriv it
 * still runs the command, but with the user's primary group only (Node's own user switch drops
 * the others), so a program that reads a file through a supplementary group fails at runtime.
 */
export function checkSetpriv(
  config: HaloConfig,
  self: NodeConfig,
  find: () => string | null = findSetpriv,
): CheckResult[] {
  const users = userKeys(config, self);
  if (users.length === 0) return [];
  const base = { id: 'binary:setpriv', title: 'Program setpriv' };
  const list =
    users.length > 3 ? `${users.slice(0, 3).join(', ')} and ${users.length - 3} more` : users.join(', ');
  const path = find();
  if (path) return [{ ...base, status: 'pass', message: `${path} (for ${list})` }];
  return [
    {
      ...base,
      status: 'fail',
      message: `not found in ${SETPRIV_PATHS.join(', ')}; ${list} ${users.length === 1 ? 'needs' : 'need'} it: the agent runs a command with user: through setpriv --init-groups, and without it the command gets only the user's primary group, none of its supplementary groups`,
      fix: ['apt-get install util-linux'],
    },
  ];
}

/** Config paths of the `user:` keys on commands this node may run (its groups' and the node monitors'). */
function userKeys(config: HaloConfig, self: NodeConfig): string[] {
  const keys: string[] = [];
  const hasUser = (params: Record<string, unknown>) => typeof params['user'] === 'string';
  for (const g of config.groups) {
    if (!g.nodes.includes(self.name)) continue;
    for (const r of g.resources)
      if (hasUser(r.params)) keys.push(formatPath(['groups', g.name, 'resources', r.name, 'user']));
    for (const m of g.monitors)
      if (hasUser(m.params)) keys.push(formatPath(['groups', g.name, 'monitors', m.name, 'user']));
  }
  for (const m of config.monitors) if (hasUser(m.params)) keys.push(formatPath(['monitors', m.name, 'user']));
  return keys;
}
