import { join } from 'node:path';
import { run } from './exec.js';
import type { Lab } from './lab.js';
import type { NemesisVariant } from './nemesis.js';
import { NEMESIS_SERVICE } from './nemesis-writes.js';
import { SUBNET_PREFIX } from './topology.js';

/**
 * The shared-disk lab (issue #17 acceptance 1): one block device (a loop device, see
 * test/support/loop-disk.ts) that both lab nodes can reach, as two hosts reach a SAN LUN or
 * an Azure shared disk. Each agent runs in its own mount namespace (`ip netns exec` gives
 * every process it starts a namespace of its own), so a mount made by one node's agent is
 * invisible to the other node, as on two hosts. The group `vip` mounts the device
 * (`filesystem`), then raises the VIP, then runs the nemesis store as a `process` resource
 * appending to a file on the mounted file system: an acknowledged write lives on the disk.
 */

export const STORE_PORT = 9090;
/** The lab's VIP (lab-core.ts), known before the lab exists. */
const VIP = `${SUBNET_PREFIX}.200`;

export function sharedDiskGroups(device: string, directory: string): Record<string, unknown> {
  const file = join(directory, 'records.log');
  return {
    vip: {
      nodes: ['n1', 'n2'],
      resources: {
        data: {
          type: 'filesystem',
          device,
          directory,
          fstype: 'ext4',
          fsck: 'auto',
          timeout: { start: '30s', stop: '10s', check: '5s' },
        },
        vip: { type: 'ip', after: ['data'], ip: VIP, prefix: 32, device: 'eth0', arpCount: 3 },
        store: {
          type: 'process',
          after: ['vip'],
          command: `exec ${process.execPath} ${NEMESIS_SERVICE} store "$HALO_NODE" ${STORE_PORT} ${VIP} ${file}`,
          startGrace: '300ms',
          timeout: { stop: '5s' },
        },
      },
      monitors: {
        dataw: { type: 'resource', target: 'data', interval: '1s', timeout: '6s', retries: 1 },
      },
    },
  };
}

/** The nemesis on the shared-disk group; the records are read in the owner agent's mount namespace. */
export function sharedDiskVariant(device: string, directory: string): NemesisVariant {
  const file = join(directory, 'records.log');
  return {
    lab: { groups: sharedDiskGroups(device, directory) },
    file,
    storesByHalo: true,
    async readRecords(lab: Lab, owner: string | null): Promise<string> {
      const pid = owner === null ? undefined : lab.pid(owner);
      if (pid === undefined) return '';
      // nsenter (util-linux): cat in the agent's mount namespace, where the disk is mounted.
      const r = await run(['nsenter', '-t', String(pid), '-m', 'cat', file], { allowFail: true });
      return r.stdout;
    },
  };
}
