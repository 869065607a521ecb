import type { Member } from './topology.js';

/** The parts of `GET /v1/status` the lab reads. */
export interface AgentStatus {
  quorum: boolean;
  quarantined: boolean;
  groups: Array<{ name: string; state: string; owner: string | null; term: string | null }>;
  [key: string]: unknown;
}

export interface LabOptions {
  /** Node names (default n1, n2). */
  nodes?: string[];
  /** A witness namespace and process (default true). */
  witness?: boolean;
  /** cluster.timing (default `fast`). */
  timing?: string | Record<string, string>;
  /** Groups; default one group `vip` on every node holding the lab's VIP as an `ip` resource. */
  groups?: Record<string, unknown>;
  autoFailback?: boolean;
  /** TCP port of each node's responder (default 8080). */
  servicePort?: number;
  /** Agents' HALO_LOG_LEVEL (default info). */
  logLevel?: string;
  /** cluster.coordination (e.g. etcd, with `witness: false`; see etcd.ts); default embedded. */
  coordination?: Record<string, unknown>;
  /** cluster.waitForAll (default: Halo's own, 10s). */
  waitForAll?: string;
  /**
   * Members (nodes, `w`) whose datagrams to every other voter go through a userspace relay
   * (udp-relay.ts), installed before any agent starts; `lab.relay(name)` sets its delay,
   * loss, duplication and reordering (pass-through until then).
   */
  relays?: string[];
  /** The config's `alerts:` receivers (none by default). */
  alerts?: Record<string, unknown>;
}

/**
 * The cluster configuration every agent and the witness of a lab read (as YAML): the lab's
 * nodes at their namespace addresses, the witness if there is one, and by default one group
 * `vip` holding the lab's VIP on `eth0`. Two nodes without a witness or another coordination
 * backend have no majority of three, so that lab must say `unsafe: true` to start at all;
 * three or five nodes are a config as a user would write it.
 */
export function labConfig(
  opts: LabOptions,
  nodes: readonly Member[],
  witness: Member | undefined,
  vip: string,
  keyFile: string,
): Record<string, unknown> {
  const names = nodes.map((n) => n.name);
  return {
    cluster: {
      name: 'lab',
      secretFile: keyFile,
      timing: opts.timing ?? 'fast',
      ...(witness || opts.coordination || nodes.length % 2 === 1 ? {} : { unsafe: true }),
      ...(opts.coordination ? { coordination: opts.coordination } : {}),
      ...(opts.waitForAll ? { waitForAll: opts.waitForAll } : {}),
    },
    nodes: Object.fromEntries(nodes.map((n) => [n.name, { address: n.address }])),
    ...(witness ? { witness: { address: witness.address, port: 7402 } } : {}),
    ...(opts.alerts ? { alerts: opts.alerts } : {}),
    groups: opts.groups ?? {
      vip: {
        nodes: names,
        ...(opts.autoFailback !== undefined ? { autoFailback: opts.autoFailback } : {}),
        resources: { vip: { type: 'ip', ip: vip, prefix: 32, device: 'eth0', arpCount: 3 } },
      },
    },
  };
}
