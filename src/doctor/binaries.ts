import type { HaloConfig, NodeConfig } from '../config/model.js';
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
