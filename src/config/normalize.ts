import { createHash } from 'node:crypto';
import type {
  AlertReceiverConfig,
  FinalAction,
  GroupConfig,
  HaloConfig,
  MonitorConfig,
  OnFailure,
  ResourceConfig,
  StonithConfig,
  Timing,
  TimingProfileName,
} from './model.js';
import type { RawConfig } from './schema.js';

/** The values behind each profile name (owned by coordination, handed in by the catalog). */
type TimingProfiles = Readonly<Record<TimingProfileName, Timing>>;

/** Turns the schema's output into the HaloConfig the rest of Halo uses. Pure. */
export function normalize(raw: RawConfig, file: string, profiles: TimingProfiles): HaloConfig {
  const cluster = raw.cluster;
  const { port: apiPort } = cluster.api;
  const body: Omit<HaloConfig, 'file' | 'epoch' | 'version'> = {
    cluster: {
      name: cluster.name,
      secretFile: cluster.secretFile,
      timing: resolveTiming(cluster.timing, profiles),
      coordination: coordinationOf(cluster.coordination),
      api: cluster.api,
      keepalive: {
        idleMs: cluster.keepalive.idle,
        intervalMs: cluster.keepalive.interval,
        count: cluster.keepalive.count,
      },
      waitForAllMs: cluster.waitForAll,
      unsafe: cluster.unsafe,
    },
    nodes: Object.entries(raw.nodes).map(([name, n]) => ({
      name,
      address: n.address,
      peerPort: n.peerPort,
      apiPort: n.apiPort ?? apiPort,
      links: n.links,
      weight: n.weight,
    })),
    ...(raw.witness ? { witness: raw.witness } : {}),
    groups: Object.entries(raw.groups).map(
      ([name, g]): GroupConfig => ({
        name,
        nodes: g.nodes,
        autoFailback: g.autoFailback,
        fencing: g.fencing,
        // Only when set, so configs without them keep their epoch (agents of a rolling upgrade agree).
        ...(g.fencing === 'stonith' && g.stonith ? { stonith: stonithOf(g.stonith) } : {}),
        ...(g.finalAction === 'none' ? {} : { finalAction: finalActionOf(g.finalAction) }),
        probeIntervalMs: g.probeInterval,
        ...failureTimeoutOf(g.failureTimeout ?? cluster.failureTimeout),
        resources: startOrder(Object.entries(g.resources).map(([rname, r]) => resourceConfig(rname, r))),
        monitors: Object.entries(g.monitors).map(([mname, m]) => monitorConfig(mname, m, 'failover')),
      }),
    ),
    monitors: Object.entries(raw.monitors).map(([mname, m]) => monitorConfig(mname, m, 'ineligible')),
    alerts: Object.entries(raw.alerts).map(([rname, r]) => alertReceiver(rname, r)),
  };
  return { file, epoch: configEpoch(coordinationPart(body)), version: configEpoch(body), ...body };
}

/** Only when it is on, so configs without it keep their epoch (agents of a rolling upgrade agree). */
function failureTimeoutOf(ms: number | undefined): { failureTimeoutMs?: number } {
  return ms !== undefined && ms > 0 ? { failureTimeoutMs: ms } : {};
}

export function resolveTiming(timing: RawConfig['cluster']['timing'], profiles: TimingProfiles): Timing {
  if (typeof timing === 'string') return { ...profiles[timing] };
  const renewMs = timing.renew ?? Math.round(timing.lease * 0.15);
  return {
    profile: 'custom',
    leaseMs: timing.lease,
    renewMs,
    stopBudgetMs: timing.stopBudget ?? Math.round(timing.lease * 0.3),
    heartbeatMs: timing.heartbeat ?? renewMs,
  };
}

function resourceConfig(name: string, entry: Record<string, unknown>): ResourceConfig {
  const { type, after, ...params } = entry as { type: string; after: string[] } & Record<string, unknown>;
  return { name, type, after, params };
}

function monitorConfig(
  name: string,
  entry: Record<string, unknown>,
  defaultThen: OnFailure['then'],
): MonitorConfig {
  const { type, interval, timeout, retries, startWait, target, onFailure, ...params } = entry as {
    type: string;
    interval: number;
    timeout: number;
    retries: number;
    startWait: number;
    target?: string;
    onFailure?: string | { restart: number; then: OnFailure['then']; restartWindow?: number };
  } & Record<string, unknown>;
  const ladder: OnFailure =
    onFailure === undefined
      ? { restart: 0, then: defaultThen }
      : typeof onFailure === 'string'
        ? { restart: 0, then: onFailure as OnFailure['then'] }
        : {
            restart: onFailure.restart,
            then: onFailure.then,
            ...(onFailure.restartWindow ? { restartWindowMs: onFailure.restartWindow } : {}),
          };
  return {
    name,
    type,
    intervalMs: interval,
    timeoutMs: timeout,
    retries,
    startWaitMs: startWait,
    ...(target !== undefined ? { target } : {}),
    onFailure: ladder,
    params,
  };
}

/** Stable topological order: dependencies first, otherwise the order of the file. Assumes no cycles. */
export function startOrder(resources: ResourceConfig[]): ResourceConfig[] {
  const byName = new Map(resources.map((r) => [r.name, r]));
  const placed = new Set<string>();
  const out: ResourceConfig[] = [];
  const place = (r: ResourceConfig, depth: number) => {
    if (placed.has(r.name) || depth > resources.length) return;
    for (const dep of r.after) {
      const d = byName.get(dep);
      if (d) place(d, depth + 1);
    }
    placed.add(r.name);
    out.push(r);
  };
  for (const r of resources) place(r, 0);
  return out;
}

/**
 * What the agents must agree on to count each other's votes: the cluster, its members and the
 * set of groups with their resources. Resource parameters, monitors, alerts and the groups'
 * recovery settings are left out: `halo config apply` changes them on a running cluster
 * (src/config/config-diff.ts), node by node, without a rolling restart.
 */
export function coordinationPart(body: Omit<HaloConfig, 'file' | 'epoch' | 'version'>): unknown {
  return {
    ...body,
    groups: body.groups.map(
      ({ monitors: _m, probeIntervalMs: _p, failureTimeoutMs: _f, finalAction: _a, ...g }) => ({
        ...g,
        resources: g.resources.map(({ params: _params, ...r }) => r),
      }),
    ),
    monitors: undefined,
    alerts: undefined,
  };
}

function configEpoch(body: unknown): number {
  const digest = createHash('sha256').update(JSON.stringify(body)).digest();
  return digest.readUIntBE(0, 6);
}

function alertReceiver(name: string, r: RawConfig['alerts'][string]): AlertReceiverConfig {
  const { timeout, queueSize, kinds, minSeverity } = r;
  const common = { name, kinds, minSeverity, timeoutMs: timeout, queueSize };
  switch (r.type) {
    case 'script':
      return {
        ...common,
        type: 'script',
        path: r.path,
        recipient: r.recipient,
        timestampFormat: r.timestampFormat,
        env: r.env,
      };
    case 'webhook':
      return {
        ...common,
        type: 'webhook',
        url: r.url,
        ...(r.secretFile !== undefined ? { secretFile: r.secretFile } : {}),
        retries: r.retries,
        backoffMs: r.backoff,
      };
    case 'smtp':
      return {
        ...common,
        type: 'smtp',
        host: r.host,
        port: r.port,
        secure: r.secure,
        from: r.from,
        to: r.to,
        ...(r.ca !== undefined ? { ca: r.ca } : {}),
        ...(r.user !== undefined ? { user: r.user } : {}),
        ...(r.passwordFile !== undefined ? { passwordFile: r.passwordFile } : {}),
      };
    case 'snmp':
      return { ...common, type: 'snmp', host: r.host, port: r.port, community: r.community };
  }
}

function coordinationOf(c: RawConfig['cluster']['coordination']): HaloConfig['cluster']['coordination'] {
  if (c.type !== 'etcd') return c;
  const { electionTimeout, ...rest } = c;
  return { ...rest, electionTimeoutMs: electionTimeout };
}

type RawGroup = RawConfig['groups'][string];

function stonithOf(s: NonNullable<RawGroup['stonith']>): StonithConfig {
  const d = s.device;
  const device: StonithConfig['device'] =
    d.type === 'aws'
      ? {
          type: 'aws',
          instances: d.instances,
          ...(d.region !== undefined ? { region: d.region } : {}),
          ...(d.endpoint !== undefined ? { endpoint: d.endpoint } : {}),
          callTimeoutMs: d.callTimeout,
          pollIntervalMs: d.pollInterval,
        }
      : {
          type: 'command',
          agent: d.agent,
          options: d.options,
          nodes: d.nodes,
          ...(d.passwordFile !== undefined ? { passwordFile: d.passwordFile } : {}),
        };
  return {
    device,
    timeoutMs: s.timeout,
    delayMs: s.delay,
    randomDelayMs: s.randomDelay,
    retryIntervalMs: s.retryInterval,
  };
}

function finalActionOf(f: RawGroup['finalAction']): FinalAction {
  if (f === 'none' || f === 'stop-groups') return { type: f };
  return { type: 'command', command: f.command, timeoutMs: f.timeout };
}
