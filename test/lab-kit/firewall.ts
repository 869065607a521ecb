import { LabError, run } from './exec.js';

/**
 * Partitions and packet loss with nftables inside the members' own namespaces (the bridge
 * stays a dumb switch). One table per namespace, `inet halo_lab`, so heal() is one delete.
 * Delay, duplication and reordering are done by a userspace relay (udp-relay.ts): the
 * kernels this project's CI runs on have no netem qdisc (CONFIG_NET_SCH_NETEM unset).
 */

const TABLE = 'halo_lab';

const prepared = new Set<string>();

async function nft(ns: string, script: string): Promise<void> {
  await run(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], { input: script });
}

async function ensureTable(ns: string): Promise<void> {
  if (prepared.has(ns)) return;
  await nft(
    ns,
    `table inet ${TABLE} {
  chain input { type filter hook input priority -10; policy accept; }
  chain output { type filter hook output priority -10; policy accept; }
}
`,
  );
  prepared.add(ns);
}

/**
 * Drops everything `ns` sends to or receives from each of `peers` (one side of a partition),
 * in one nftables transaction: the rules take effect together.
 */
export async function blockPeers(
  ns: string,
  peers: readonly string[],
  direction: 'both' | 'in' | 'out' = 'both',
): Promise<void> {
  await ensureTable(ns);
  const rules: string[] = [];
  for (const peer of peers) {
    if (direction !== 'out') rules.push(`add rule inet ${TABLE} input ip saddr ${peer} drop`);
    if (direction !== 'in') rules.push(`add rule inet ${TABLE} output ip daddr ${peer} drop`);
  }
  await nft(ns, `${rules.join('\n')}\n`);
}

/** Random loss on the namespace's uplink (both directions), `percent` of packets. */
export async function addLoss(ns: string, dev: string, percent: number): Promise<void> {
  if (!(percent > 0 && percent <= 100))
    throw new LabError(`loss percent must be in (0, 100], got ${percent}`);
  await ensureTable(ns);
  const p = Math.round(percent);
  await nft(
    ns,
    `add rule inet ${TABLE} input iifname "${dev}" numgen random mod 100 < ${p} drop
add rule inet ${TABLE} output oifname "${dev}" numgen random mod 100 < ${p} drop
`,
  );
}

/** Removes every partition and loss rule of the namespace. */
export async function healNamespace(ns: string): Promise<void> {
  if (!prepared.has(ns)) return;
  prepared.delete(ns);
  await run(['ip', 'netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', TABLE], { allowFail: true });
}
