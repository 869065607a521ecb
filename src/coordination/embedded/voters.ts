import type { HaloConfig } from '../../config/model.js';
import type { Link } from '../transport/udp-transport.js';

/** Name the witness votes under (node names may not use it: the config validator refuses). */
export const WITNESS = 'witness';

export interface VoterInfo {
  name: string;
  kind: 'node' | 'witness';
  weight: number;
  links: Link[];
  /** 0..1023, the low bits of this voter's ballots: stable across nodes (config order). */
  ballotIndex: number;
}

/** Every voter of the cluster in config order: the nodes, then the witness. */
export function votersOf(config: HaloConfig): VoterInfo[] {
  const voters: VoterInfo[] = config.nodes.map((n, i) => ({
    name: n.name,
    kind: 'node',
    weight: n.weight,
    links: [n.address, ...n.links].map((host) => ({ host, port: n.peerPort })),
    ballotIndex: i,
  }));
  if (config.witness) {
    voters.push({
      name: WITNESS,
      kind: 'witness',
      weight: 1,
      links: [{ host: config.witness.address, port: config.witness.port }],
      ballotIndex: voters.length,
    });
  }
  return voters;
}

export function majorityWeight(voters: readonly VoterInfo[]): number {
  return Math.floor(voters.reduce((sum, v) => sum + v.weight, 0) / 2) + 1;
}

export function linksByName(voters: readonly VoterInfo[], except?: string): Record<string, Link[]> {
  return Object.fromEntries(voters.filter((v) => v.name !== except).map((v) => [v.name, v.links]));
}
