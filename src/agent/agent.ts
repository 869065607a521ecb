import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { TokenAuth } from '../api/auth.js';
import type { ClusterOps, HaloEvent } from '../api/ops.js';
import { buildApi } from '../api/server.js';
import { loadConfig } from '../config/load.js';
import type { HaloConfig } from '../config/model.js';
import { WorkerCoordinator } from '../coordination/embedded/worker-coordinator.js';
import type { Coordinator } from '../coordination/types.js';
import { Engine } from '../engine/engine.js';
import { EventLog } from '../engine/event-log.js';
import { monitorTypes } from '../engine/monitors/registry.js';
import { resourceTypes } from '../engine/resources/registry.js';
import { realTimers } from '../engine/timers.js';
import { HaloError } from '../errors.js';
import type { Logger } from '../log.js';
import { registerWebUi } from '../web/web-ui.js';
import { renderMetrics } from './metrics.js';
import { apiToken, readPrivateFile } from './secrets.js';
import { buildStatus } from './status.js';

export interface AgentOptions {
  configFile: string;
  node: string;
  stateDir: string;
  log: Logger;
}

/** The package version: dist/src/agent/ sits three levels below package.json, a bare outDir two. */
export const VERSION: string = readVersion();

function readVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version?: unknown };
      if (typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Try the next candidate.
    }
  }
  return '0.0.0';
}

/**
 * `halo agent`: one per node. Wires the config, the coordination backend, the group engine
 * and the REST API together; everything with logic lives in those parts.
 */
export class Agent implements ClusterOps {
  private readonly opts: AgentOptions;
  private config!: HaloConfig;
  private coordinator!: Coordinator;
  private engine!: Engine;
  private events!: EventLog;
  private api!: FastifyInstance;
  private readonly lag = monitorEventLoopDelay({ resolution: 20 });
  private readonly failovers: Record<string, number> = {};
  private readonly monitorLatency: Record<string, { count: number; sumMs: number }> = {};
  private lastTick = Date.now();
  private tickTimer: NodeJS.Timeout | undefined;

  constructor(opts: AgentOptions) {
    this.opts = opts;
  }

  /** The API's base URL (after start). */
  url = '';

  async start(): Promise<void> {
    const { log, stateDir } = this.opts;
    this.config = loadConfig(this.opts.configFile);
    const self = this.config.nodes.find((n) => n.name === this.opts.node);
    if (!self) {
      throw new HaloError(
        'HALO_E_USAGE',
        `node "${this.opts.node}" is not in ${this.opts.configFile}; expected one of: ${this.config.nodes.map((n) => n.name).join(', ')}`,
      );
    }
    if (this.config.cluster.coordination.type !== 'embedded') {
      throw new HaloError(
        'HALO_E_CONFIG_INVALID',
        'cluster.coordination.type etcd is not available in this build yet; use embedded',
      );
    }
    for (const g of this.config.groups) {
      for (const r of g.resources) {
        if (!resourceTypes.has(r.type)) {
          throw new HaloError(
            'HALO_E_CONFIG_INVALID',
            `groups.${g.name}.resources.${r.name}: resource type ${r.type} is not available in this build yet`,
          );
        }
      }
    }
    const key = Buffer.from(readPrivateFile(this.config.cluster.secretFile, 'cluster key'));
    const { token, file: tokenFile } = apiToken(this.config.cluster.api.tokenFile, stateDir);
    const readOnly = this.config.cluster.api.readOnlyTokenFile
      ? readPrivateFile(this.config.cluster.api.readOnlyTokenFile, 'read-only API token')
      : undefined;

    this.lag.enable();
    this.tickTimer = setInterval(() => {
      this.lastTick = Date.now();
    }, 100);
    this.events = new EventLog({ dir: stateDir, node: self.name, log });
    await this.events.start();
    this.coordinator = new WorkerCoordinator({ config: this.config, node: self.name, key, stateDir });
    this.engine = new Engine({
      config: this.config,
      node: self.name,
      coordinator: this.coordinator,
      resources: (_g, r) => resourceTypes.get(r.type)!.create(r.name, r.params),
      monitors: (m) => monitorTypes.get(m.type)!.create(m.name, m.params),
      resourceTypes: (type) => {
        const t = resourceTypes.get(type);
        return t ? { params: t.params as never, paramModes: t.paramModes } : undefined;
      },
      eventLog: this.events,
      timers: realTimers,
      log,
      stateDir,
      agentHealth: () => ({ eventLoopLagMs: this.lag.max / 1e6, lastTickAgoMs: Date.now() - this.lastTick }),
    });
    this.events.subscribe((e) => {
      if (e.type === 'timeline' && e.group) this.failovers[e.group] = (this.failovers[e.group] ?? 0) + 1;
      const ms = e.details?.['durationMs'];
      if (e.type === 'monitor' && e.monitor && typeof ms === 'number') {
        const key = e.group ? `${e.group}/${e.monitor}` : e.monitor;
        const s = this.monitorLatency[key] ?? { count: 0, sumMs: 0 };
        this.monitorLatency[key] = s;
        s.count++;
        s.sumMs += ms;
      }
    });
    await this.coordinator.start();
    await this.engine.start();

    const tls = this.config.cluster.api.tls;
    this.api = buildApi({
      ops: this,
      auth: new TokenAuth({ readWrite: token, readOnly }),
      log,
      version: VERSION,
      tls: tls ? { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } : undefined,
      extend: (app) => registerWebUi(app),
    });
    const host = this.config.cluster.api.host;
    await this.api.listen({ port: self.apiPort, host });
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    this.url = `${tls ? 'https' : 'http'}://${shown}:${self.apiPort}`;
    log.info(
      { node: self.name, api: this.url, tokenFile, epoch: this.config.epoch.toString(16) },
      'agent started',
    );
  }

  async stop(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.lag.disable();
    await this.api?.close();
    await this.engine?.stop();
    await this.coordinator?.stop();
    this.opts.log.info({ node: this.opts.node }, 'agent stopped');
  }

  // ---- ClusterOps (the API) -------------------------------------------------------------

  status(): unknown {
    return buildStatus(this.config, this.engine.status(), this.coordinator.view());
  }

  async move(group: string, to?: string): Promise<void> {
    await this.engine.move(group, to);
  }

  async startGroup(group: string, on?: string): Promise<void> {
    await this.engine.startGroup(group, on);
  }

  async stopGroup(group: string): Promise<void> {
    await this.engine.stopGroup(group);
  }

  getParams(group: string, resource: string) {
    return this.engine.getParams(group, resource);
  }

  setParams(group: string, resource: string, changes: Record<string, unknown>) {
    return this.engine.setParams(group, resource, changes);
  }

  suspendMonitor(name: string): Promise<void> {
    return this.engine.suspendMonitor(name);
  }

  resumeMonitor(name: string): Promise<void> {
    return this.engine.resumeMonitor(name);
  }

  recentEvents(limit: number): HaloEvent[] {
    return this.events.recent({ limit });
  }

  subscribeEvents(listener: (event: HaloEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  metrics(): string {
    return renderMetrics({
      cluster: this.config.cluster.name,
      engine: this.engine.status(),
      coordination: this.coordinator.view(),
      failovers: this.failovers,
      leaseRenewals: { count: 0, sumMs: 0 },
      monitorLatency: this.monitorLatency,
    });
  }
}
