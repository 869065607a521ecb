import type { Coordination, HaloConfig } from '../config/model.js';
import type { Logger } from '../log.js';
import type { Coordinator } from './types.js';

/**
 * Every coordination backend, listed by hand: the config's `cluster.coordination.type` picks
 * one. Each entry loads its module only when chosen, so a cluster on the embedded backend
 * never pays for the etcd client (gRPC and protobuf cost some 30 MB of resident memory).
 */

export interface BackendContext {
  config: HaloConfig;
  node: string;
  /** The cluster key (authenticates the transport and the deadman helper's messages). */
  key: Buffer;
  /** Where the backend may keep state across restarts. */
  stateDir: string;
  log: Logger;
}

export interface Backend {
  type: Coordination['type'];
  /** One line for humans: what the backend coordinates through. */
  summary: string;
  create(ctx: BackendContext): Promise<Coordinator>;
}

export const BACKENDS: readonly Backend[] = [
  {
    type: 'embedded',
    summary: 'PaxosLease among the nodes and the witness, over the authenticated UDP transport',
    create: async (ctx) => new (await import('./embedded/embedded-coordinator.js')).EmbeddedCoordinator(ctx),
  },
  {
    type: 'etcd',
    summary: 'one etcd lease per agent; a group is owned by whoever created its key',
    create: async (ctx) => new (await import('./etcd/etcd-coordinator.js')).EtcdCoordinator(ctx),
  },
];

/** The backend the config asks for, constructed (not started). */
export function createCoordinator(ctx: BackendContext): Promise<Coordinator> {
  const type = ctx.config.cluster.coordination.type;
  const backend = BACKENDS.find((b) => b.type === type);
  if (!backend) throw new Error(`no coordination backend of type ${type}`);
  return backend.create(ctx);
}
