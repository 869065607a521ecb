import type { Etcd3, IKeyValue } from 'etcd3';
import { HaloError } from '../../errors.js';
import { type EtcdKeys, parseNode } from './etcd-keys.js';
import { withTimeout } from './lease-keeper.js';

/** One consistent read of everything under the prefix. */
export interface Snapshot {
  revision: number;
  kvs: IKeyValue[];
}

export async function readSnapshot(client: Etcd3, keys: EtcdKeys, timeoutMs: number): Promise<Snapshot> {
  const res = await withTimeout(
    client
      .getAll()
      .prefix(keys.root)
      .options({ deadline: Date.now() + timeoutMs })
      .exec(),
    timeoutMs,
  );
  return { revision: Number(res.header.revision), kvs: res.kvs };
}

/**
 * Makes sure etcd holds this agent's config epoch. The first agent writes it; an agent with
 * another epoch refuses to start while any node of the other epoch is alive (its lease-bound
 * node key exists), and takes over the epoch once none is — so a config change is rolled out
 * by stopping every agent, or at least every agent still on the old file.
 */
export async function checkEpoch(
  client: Etcd3,
  keys: EtcdKeys,
  epoch: number,
  self: string,
  timeoutMs: number,
): Promise<void> {
  const key = keys.epoch();
  const res = await withTimeout(
    client
      .if(key, 'Create', '==', 0)
      .then(client.put(key).value(String(epoch)))
      .else(client.get(key))
      .options({ deadline: Date.now() + timeoutMs })
      .commit(),
    timeoutMs,
  );
  if (res.succeeded) return;
  const stored = res.responses[0]?.response_range?.kvs[0];
  if (!stored || Number(stored.value.toString()) === epoch) return;
  const snap = await readSnapshot(client, keys, timeoutMs);
  const others: string[] = [];
  for (const kv of snap.kvs) {
    const parsed = keys.parse(kv.key.toString());
    if (parsed.kind !== 'node' || parsed.name === self) continue;
    const rec = parseNode(kv.value);
    if (rec && rec.epoch !== epoch) others.push(`${parsed.name} (epoch ${rec.epoch})`);
  }
  if (others.length > 0)
    throw new HaloError(
      'HALO_E_CONFIG_INVALID',
      `etcd at ${keys.root} holds config epoch ${stored.value.toString()} and ${others.join(', ')} still run it; this agent's config has epoch ${epoch}. Give every node the same config file, or stop the agents on the old one first`,
      { stored: stored.value.toString(), ours: epoch },
    );
  await withTimeout(
    client
      .if(key, 'Mod', '==', stored.mod_revision)
      .then(client.put(key).value(String(epoch)))
      .options({ deadline: Date.now() + timeoutMs })
      .commit(),
    timeoutMs,
  );
}
