/**
 * The normalized configuration: what the rest of Halo sees after `loadConfig` has parsed,
 * validated and defaulted the YAML file. Durations are milliseconds; every optional key
 * with a default is filled in; the object is deeply frozen.
 */

export type TimingProfileName = 'fast' | 'default' | 'relaxed';

/** Coordination timing, all in milliseconds (a named profile or explicit values). */
export interface Timing {
  profile: TimingProfileName | 'custom';
  /** Heartbeat period between agents (membership view only, never safety). */
  heartbeatMs: number;
  /** Lease duration D granted by acceptors. */
  leaseMs: number;
  /** Renewal period R of an owner. */
  renewMs: number;
  /** Stop budget S: the owner demotes at V − S. */
  stopBudgetMs: number;
}

export type Coordination =
  | { type: 'embedded' }
  | {
      type: 'etcd';
      endpoints: string[];
      prefix: string;
      /** etcd's --election-timeout; the lease TTL is raised to outlast an election (etcd-timing.ts). */
      electionTimeoutMs?: number;
      tls?: { ca?: string; cert?: string; key?: string };
      username?: string;
      passwordFile?: string;
    };

export interface ApiConfig {
  port: number;
  /** Listen host; defaults to 0.0.0.0. */
  host: string;
  tokenFile?: string;
  readOnlyTokenFile?: string;
  /** Named tokens: each request is recorded under its token's name (events' `by`). */
  tokens?: Record<string, NamedTokenConfig>;
  tls?: { cert: string; key: string };
}

export interface NamedTokenConfig {
  file: string;
  access: 'read-write' | 'read-only';
}

export interface KeepaliveConfig {
  idleMs: number;
  intervalMs: number;
  count: number;
}

export interface ClusterConfig {
  name: string;
  secretFile: string;
  timing: Timing;
  coordination: Coordination;
  api: ApiConfig;
  keepalive: KeepaliveConfig;
  /** Cold start: wait at most this long for every voter before proposing (0 = no wait). */
  waitForAllMs: number;
  /** Allow a two-node cluster without a witness (split brain is then possible). */
  unsafe: boolean;
}

export interface NodeConfig {
  name: string;
  address: string;
  peerPort: number;
  apiPort: number;
  links: string[];
  /** Votes of this node (default 1; give one node 2 in an even cluster without witness). */
  weight: number;
}

export interface WitnessConfig {
  address: string;
  port: number;
}

export type FailureAction = 'restart' | 'failover' | 'ineligible' | 'alert' | 'none';

/** The recovery ladder of a monitor: restart the target up to `restart` times, then `then`. */
export interface OnFailure {
  restart: number;
  then: Exclude<FailureAction, 'restart'>;
  /**
   * Count only the restarts of the last this many ms (WSFC's RestartPeriod). Absent: the count
   * starts over once the monitor has passed for a while (recovery.ts).
   */
  restartWindowMs?: number;
}

export interface ResourceConfig {
  name: string;
  type: string;
  after: string[];
  /** Type-specific parameters, validated by the resource type's own schema. */
  params: Record<string, unknown>;
}

export interface MonitorConfig {
  name: string;
  type: string;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startWaitMs: number;
  /** Group monitors: the resource that must be active for the monitor to run. */
  target?: string;
  onFailure: OnFailure;
  params: Record<string, unknown>;
}

/**
 * How a new owner is kept from overlapping the old one: `lease` trusts the old owner to stop by
 * its lease deadline; `token` also has the protected target refuse writes with an older term;
 * `stonith` has the new owner power the old one off (and wait for the confirmation) first.
 * The watchdog policy is not implemented yet.
 */
export type FencingPolicy = 'lease' | 'token' | 'stonith';

/** A fence device: how a node is powered off from outside (docs/fencing.md). */
export type FenceDeviceConfig =
  | {
      type: 'aws';
      /** EC2 instance id per node. */
      instances: Record<string, string>;
      region?: string;
      endpoint?: string;
      callTimeoutMs: number;
      pollIntervalMs: number;
    }
  | {
      type: 'command';
      /** Absolute path of a fence-agents agent (fence_*). */
      agent: string;
      /** name=value lines for every node. */
      options: Record<string, string>;
      /** name=value lines per node (plug, ip…), over `options`. */
      nodes: Record<string, Record<string, string>>;
      passwordFile?: string;
    };

export interface StonithConfig {
  device: FenceDeviceConfig;
  /** One attempt: power-off and its confirmation. */
  timeoutMs: number;
  /** Static delay before fencing a node, per target node (pcmk_delay_base). */
  delayMs: Record<string, number>;
  /** Upper bound of a random delay added before fencing (pcmk_delay_max). */
  randomDelayMs: number;
  /** First wait after a failed attempt; doubled per failure up to 10×. */
  retryIntervalMs: number;
}

/** What the node where a group's recovery ran out does (CLUSTERPRO's final action). */
export type FinalAction =
  | { type: 'none' }
  | { type: 'stop-groups' }
  | { type: 'command'; command: string | string[]; timeoutMs: number };

export interface GroupConfig {
  name: string;
  /** Preference order; the group may run only on these nodes. */
  nodes: string[];
  autoFailback: boolean;
  fencing: FencingPolicy;
  /** Set exactly when `fencing` is `stonith`. */
  stonith?: StonithConfig;
  /** Optional for configs built in code (none); the loader always sets it. */
  finalAction?: FinalAction;
  /**
   * How often a node where the group is stopped probes its resources for copies it did not
   * start (every node also probes once when its agent starts). Optional for configs built in
   * code; the loader always sets it.
   */
  probeIntervalMs?: number;
  /**
   * A failure mark of a node older than this no longer keeps the node from running the group
   * (Pacemaker's failure-timeout). Absent: marks last until `halo cleanup` (or `halo start`).
   */
  failureTimeoutMs?: number;
  /** Resources in a valid start order (dependencies first); stop in reverse. */
  resources: ResourceConfig[];
  monitors: MonitorConfig[];
}

/** What an alert is about (Pacemaker's CRM_alert_kind). */
export type AlertKind = 'node' | 'resource' | 'fencing' | 'attribute';

export type AlertSeverity = 'info' | 'warning' | 'critical';

/** Settings every alert receiver has, whatever its type. */
export interface AlertReceiverCommon {
  name: string;
  /** Only these kinds are sent (all when empty). */
  kinds: AlertKind[];
  /** Alerts below this severity are not sent. */
  minSeverity: AlertSeverity;
  /** Time limit of one delivery attempt. */
  timeoutMs: number;
  /** Alerts waiting for this receiver; past it the oldest is dropped (and counted). */
  queueSize: number;
}

export type AlertReceiverConfig = AlertReceiverCommon &
  (
    | {
        type: 'script';
        path: string;
        /** CRM_alert_recipient. */
        recipient: string;
        /** strftime-like format of CRM_alert_timestamp (Pacemaker's timestamp-format). */
        timestampFormat: string;
        env: Record<string, string>;
      }
    | {
        type: 'webhook';
        url: string;
        /** File holding the HMAC-SHA256 key; the signature goes in X-Halo-Signature. */
        secretFile?: string;
        /** Attempts after the first one failed. */
        retries: number;
        /** First back-off; doubled after each failed attempt. */
        backoffMs: number;
      }
    | {
        type: 'smtp';
        host: string;
        port: number;
        secure: boolean;
        from: string;
        to: string[];
        /** PEM CA file for the server's certificate. */
        ca?: string;
        user?: string;
        passwordFile?: string;
      }
    | {
        type: 'snmp';
        host: string;
        port: number;
        community: string;
      }
  );

export interface HaloConfig {
  /** Absolute path of the file this config was read from. */
  file: string;
  /**
   * Config epoch: a digest of the part of the normalized content the agents coordinate on
   * (cluster, nodes, witness, groups and their resources, without parameters, monitors and
   * alerts; see coordinationPart in normalize.ts). Agents with different epochs never count
   * each other's votes, so a half-distributed config cannot form a quorum.
   */
  epoch: number;
  /**
   * A digest of the whole normalized content: another `version` with the same `epoch` is a
   * change `halo config apply` makes on the running cluster.
   */
  version: number;
  cluster: ClusterConfig;
  nodes: NodeConfig[];
  witness?: WitnessConfig;
  groups: GroupConfig[];
  /** Node-level monitors, run on every node all the time. */
  monitors: MonitorConfig[];
  /**
   * Where each node sends alerts (failovers, failed actions, lost quorum, fencing). Optional
   * for configs built in code; the loader always sets it.
   */
  alerts?: AlertReceiverConfig[];
}
