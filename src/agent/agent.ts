import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import { AlertDispatcher, type ReceiverStatus } from '../alerts/dispatcher.js';
import { peerToken, TokenAuth } from '../api/auth.js';
import type { ClusterOps, HaloEvent, StandbyResult } from '../api/ops.js';
import { fetchPeerViews } from '../api/peer-timelines.js';
import { checkTarget } from '../api/preconditions.js';
import { buildApi } from '../api/server.js';
import { closeEc2Clients, setEc2Keepalive } from '../cloud/aws/ec2-api.js';
import type { HaloConfig } from '../config/model.js';
import { type Lifeline, lifelinePath, openLifeline } from '../coordination/deadman/lifeline.js';
import { WorkerCoordinator } from '../coordination/worker/worker-coordinator.js';
import { loadConfig } from '../engine/config-catalog.js';
import type { ReloadMode } from '../engine/engine.js';
import { Engine } from '../engine/engine.js';
import { EventLog, type Timeline } from '../engine/event-log.js';
import { useLifeline } from '../engine/exec/index.js';
import { Launcher, useLauncher } from '../engine/exec/launcher.js';
import { monitorTypes } from '../engine/monitors/registry.js';
import { resourceTypes } from '../engine/resources/registry.js';
import { realTimers } from '../engine/timers.js';
import { HaloError, isHaloError } from '../errors.js';
import type { Logger } from '../log.js';
import { installClientKeepalive, keepaliveServer } from '../net/keepalive.js';
import { VERSION } from '../util/version.js';
import { registerWebUi } from '../web/web-ui.js';
import { ConfigStore, fileKey, registerConfigPush } from './config-store.js';
import { registerDestroy } from './destroy.js';
import { LoopLag } from './loop-lag.js';
import { MembershipEvents } from './membership-events.js';
import { type MemoryUse, renderMetrics } from './metrics.js';
import { SdNotify } from './sd-notify.js';
import { apiToken, readPrivateFile } from './secrets.js';
import { describeStateDir, ensureStateDir, looseStateDirProblem, type StateDirHealth } from './state-dir.js';
import { StateDirWatch } from './state-dir-watch.js';
import { buildStatus, type LocalGroupView, localGroupViews } from './status.js';
import { installTestHooks } from './test-hooks.js';

/** Length of one event-loop lag window (the stall monitor sees the last one or two). */
const LAG_WINDOW_MS = 5000;
/** The agent's own tick: it stamps `lastTick` and measures the event-loop lag (LoopLag). */
const LAG_SAMPLE_MS = 100;

/** How often the agent checks that its state directory can be written. */
const STATE_DIR_PROBE_MS = 2000;

/** `GET /v1/status`: the cluster as this node sees it, and this node's state dir health. */
export type AgentStatus = ReturnType<typeof buildStatus> & {
  stateDir: StateDirHealth | null;
  alerts: ReceiverStatus[];
};

export interface AgentOptions {
  configFile: string;
  node: string;
  stateDir: string;
  log: Logger;
}

/**
 * `halo agent`: one per node. Wires the config, the coordination backend, the group engine
 * and the REST API together; everything with logic lives in those parts.
 */
export class Agent implements ClusterOps {
  private readonly opts: AgentOptions;
  private config!: HaloConfig;
  private coordinator!: WorkerCoordinator;
  private peerToken = '';
  private sd = new SdNotify();
  private engine!: Engine;
  private events!: EventLog;
  private alerts: AlertDispatcher | undefined;
  private api!: FastifyInstance;
  private configStore!: ConfigStore;
  private stateDirWatch: StateDirWatch | undefined;
  private readonly lag = new LoopLag({ everyMs: LAG_SAMPLE_MS, windowMs: LAG_WINDOW_MS });
  private readonly failovers: Record<string, number> = {};
  private lastTick = Date.now();
  private tickTimer: NodeJS.Timeout | undefined;
  private lifeline: Lifeline | undefined;
  private readonly launcher: Launcher;

  constructor(opts: AgentOptions) {
    this.opts = opts;
    this.launcher = new Launcher(opts.log);
  }

  /** The API's base URL (after start). */
  url = '';

  async start(): Promise<void> {
    const { log, stateDir } = this.opts;
    // Taken before the read: a change of the file in between then shows as a change.
    let runningKey: string | undefined;
    try {
      runningKey = fileKey(this.opts.configFile);
    } catch {
      // loadConfig reports it.
    }
    this.config = loadConfig(this.opts.configFile);
    const self = this.config.nodes.find((n) => n.name === this.opts.node);
    if (!self) {
      throw new HaloError(
        'HALO_E_USAGE',
        `node "${this.opts.node}" is not in ${this.opts.configFile}; expected one of: ${this.config.nodes.map((n) => n.name).join(', ')}`,
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
    this.peerToken = peerToken(key);
    const dirMode = ensureStateDir(stateDir).mode;
    const loose = looseStateDirProblem(stateDir, dirMode);
    if (loose) log.warn({ stateDir, mode: `0${dirMode.toString(8)}` }, loose);
    const { token, file: tokenFile } = apiToken(this.config.cluster.api.tokenFile, stateDir);
    const readOnly = this.config.cluster.api.readOnlyTokenFile
      ? readPrivateFile(this.config.cluster.api.readOnlyTokenFile, 'read-only API token')
      : undefined;

    installClientKeepalive(this.config.cluster.keepalive);
    setEc2Keepalive(this.config.cluster.keepalive);
    installTestHooks(log);
    this.tickTimer = setInterval(() => {
      this.lastTick = Date.now();
      this.lag.sample(performance.now());
    }, LAG_SAMPLE_MS);
    this.events = new EventLog({ dir: stateDir, node: self.name, log });
    await this.events.start();
    // Resource commands are forked by a small process of their own (exec/launcher-main.ts).
    useLauncher(this.launcher);
    // Before the coordinator: its deadman helper holds the same FIFO (see lifeline.ts).
    try {
      this.lifeline = openLifeline(lifelinePath(stateDir));
      useLifeline(this.lifeline.readFd, join(stateDir, 'deadman.unmanaged'));
    } catch (err) {
      log.warn(
        { err: (err as Error).message },
        'no lifeline: resources outlive an agent and helper killed together',
      );
    }
    this.stateDirWatch = new StateDirWatch({
      dir: stateDir,
      everyMs: STATE_DIR_PROBE_MS,
      changed: (h, previous) => {
        const bad = h.level === 'full' || h.level === 'unwritable';
        log[bad ? 'error' : 'info']({ stateDir: h }, describeStateDir(h));
        this.events.append({
          type: 'agent',
          level: bad ? 'error' : h.level === 'low' ? 'warn' : 'info',
          message: `state directory ${describeStateDir(h)}`,
          details: { stateDir: h, previous },
        });
      },
    });
    await this.stateDirWatch.start();
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
      agentHealth: () => ({
        eventLoopLagMs: this.lag.maxMs(performance.now()),
        lastTickAgoMs: Date.now() - this.lastTick,
      }),
    });
    this.events.subscribe((e) => {
      // Only the new owner's half counts, so a move is one failover, not one per node.
      const steps = (e.details?.['timeline'] as Timeline | undefined)?.steps ?? [];
      if (e.type === 'timeline' && e.group && steps.some((s) => s.phase === 'started'))
        this.failovers[e.group] = (this.failovers[e.group] ?? 0) + 1;
    });
    this.alerts = this.startAlerts(this.config);
    const membership = new MembershipEvents((event) => this.events.append(event));
    this.coordinator.on((e) => {
      if (e.type === 'membership') membership.update(e.view);
      if (e.type !== 'deadman') return;
      this.events.append({
        type: 'agent',
        level: e.state === 'ready' ? 'warn' : 'error',
        message: e.reason,
        details: { deadman: { state: e.state, restarts: e.restarts, pid: e.pid } },
      });
    });
    await this.coordinator.start();
    await this.engine.start();

    this.configStore = new ConfigStore({
      running: this.config,
      runningKey,
      node: self.name,
      log,
      onStored: (r) =>
        this.events.append({
          type: 'agent',
          message: r.reloadable
            ? `config stored in ${r.file}; \`halo config apply\` applies it without a restart (epoch ${r.storedEpoch} unchanged)`
            : `config ${r.storedEpoch} stored in ${r.file}; it applies when this agent restarts (running ${r.runningEpoch})`,
          details: { file: r.file, runningEpoch: r.runningEpoch, storedEpoch: r.storedEpoch },
        }),
    });

    const tls = this.config.cluster.api.tls;
    this.api = buildApi({
      ops: this,
      auth: new TokenAuth({
        readWrite: token,
        readOnly,
        peer: this.peerToken,
        named: Object.entries(this.config.cluster.api.tokens ?? {}).map(([name, t]) => ({
          name,
          access: t.access,
          token: readPrivateFile(t.file, `API token ${name}`),
        })),
      }),
      log,
      version: VERSION,
      tls: tls ? { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } : undefined,
      extend: (app) => {
        registerWebUi(app);
        registerConfigPush(app, this.configStore, (mode) => this.applyConfig(mode));
        registerDestroy(app, {
          node: self.name,
          stateDir,
          config: this.config,
          engine: () => this.engine.status(),
          shutdown: () => this.stop(),
          log,
        });
      },
    });
    keepaliveServer(this.api.server, this.config.cluster.keepalive);
    const host = this.config.cluster.api.host;
    try {
      await this.api.listen({ port: self.apiPort, host });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new HaloError(
        'HALO_E_LISTEN_FAILED',
        `cannot listen on ${host}:${self.apiPort} (${e.code ?? e.message})`,
        {
          host,
          port: self.apiPort,
        },
      );
    }
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    this.url = `${tls ? 'https' : 'http'}://${shown}:${self.apiPort}`;
    log.info(
      { node: self.name, api: this.url, tokenFile, epoch: this.config.epoch.toString(16) },
      'agent started',
    );
    this.sd = new SdNotify({ onError: (message) => log.warn({ message }, 'sd_notify failed') });
    this.sd.start();
    this.sd.notify(`READY=1\nSTATUS=serving ${this.url}`);
  }

  async stop(): Promise<void> {
    await this.sd.stop();
    if (this.tickTimer) clearInterval(this.tickTimer);
    await this.api?.close();
    await this.engine?.stop();
    await this.alerts?.stop();
    closeEc2Clients();
    await this.coordinator?.stop();
    await this.stateDirWatch?.stop();
    useLauncher(null);
    this.launcher.close();
    // Last: with the helper gone, closing our end would SIGKILL whatever still runs.
    useLifeline(null);
    this.lifeline?.close();
    this.opts.log.info({ node: this.opts.node }, 'agent stopped');
  }

  // ---- ClusterOps (the API) -------------------------------------------------------------

  /** With `peers`, each group's lastFailover includes the other nodes' halves, and onNodes their own phases. */
  async status(opts: { peers?: boolean } = {}): Promise<AgentStatus> {
    // The state dir's health: a node that cannot write it refuses intent writes.
    const stateDir = this.stateDirWatch?.current() ?? null;
    const configVersion = await this.configStore.version();
    const local = {
      ...buildStatus(this.config, this.engine.status(), this.coordinator.view(), [], configVersion),
      stateDir,
      alerts: this.alerts?.status() ?? [],
    };
    if (opts.peers === false) return local;
    const scheme = this.config.cluster.api.tls ? 'https' : 'http';
    const up = this.config.nodes.filter(
      (n) => n.name !== this.opts.node && local.nodes.some((m) => m.name === n.name && m.up),
    );
    const peers = await fetchPeerViews<Timeline, LocalGroupView>(
      up.map((n) => ({ name: n.name, url: `${scheme}://${n.address}:${n.apiPort}` })),
      this.peerToken,
    );
    return {
      ...buildStatus(this.config, this.engine.status(), this.coordinator.view(), peers, configVersion),
      stateDir,
      alerts: this.alerts?.status() ?? [],
    };
  }

  timelines(): Timeline[] {
    return this.engine.status().groups.flatMap((g) => (g.lastTimeline ? [g.lastTimeline] : []));
  }

  localGroups(): LocalGroupView[] {
    return localGroupViews(this.engine.status());
  }

  private async checkTarget(verb: 'move' | 'start', group: string, target: string): Promise<void> {
    const local = await this.status({ peers: false });
    checkTarget({
      verb,
      group,
      target,
      groupNodes: this.config.groups.find((g) => g.name === group)?.nodes,
      owner: local.groups.find((g) => g.name === group)?.owner ?? null,
      nodes: local.nodes,
    });
  }

  async move(group: string, to?: string): Promise<void> {
    if (to !== undefined) await this.checkTarget('move', group, to);
    await this.writing(() => this.engine.move(group, to));
  }

  async startGroup(group: string, on?: string): Promise<void> {
    if (on !== undefined) await this.checkTarget('start', group, on);
    await this.writing(() => this.engine.startGroup(group, on));
  }

  async stopGroup(group: string): Promise<void> {
    await this.writing(() => this.engine.stopGroup(group));
  }

  cleanup(group: string, opts: { resource?: string; node?: string }): Promise<{ cleared: string[] }> {
    return this.writing(() => this.engine.cleanup(group, opts));
  }

  getParams(group: string, resource: string) {
    return this.engine.getParams(group, resource);
  }

  setParams(group: string, resource: string, changes: Record<string, unknown>) {
    return this.writing(() => this.engine.setParams(group, resource, changes));
  }

  setStandby(node: string, standby: boolean): Promise<StandbyResult> {
    return this.writing(() => this.engine.setStandby(node, standby));
  }

  setMaintenance(group: string | null, on: boolean): Promise<void> {
    return this.writing(() => this.engine.setMaintenance(group, on));
  }

  suspendMonitor(name: string): Promise<void> {
    return this.writing(() => this.engine.suspendMonitor(name));
  }

  resumeMonitor(name: string): Promise<void> {
    return this.writing(() => this.engine.resumeMonitor(name));
  }

  /**
   * `halo config apply` on this node: the config file's change, when the running agent can take
   * it (same epoch), applied without stopping what it does not touch; see engine-reload.ts.
   */
  async applyConfig(mode: ReloadMode) {
    const result = await this.configStore.reload(async (next, diff) => {
      const report = await this.engine.reload(next, diff, mode);
      if (diff.alerts) {
        // Queued alerts of the old receivers are delivered (or time out) before they go.
        const old = this.alerts;
        this.alerts = this.startAlerts(next);
        await old?.stop();
      }
      this.config = next;
      return { ...report, alerts: diff.alerts };
    });
    if (result.report) {
      const r = result.report;
      const params = r.resources.map(
        (x) => `${x.group}/${x.resource} (${[...x.applied, ...x.restart].join(', ')})`,
      );
      const monitors = [...r.monitors.added, ...r.monitors.changed, ...r.monitors.removed];
      this.events.append({
        type: 'agent',
        message: `config reloaded from ${result.file}: parameters ${params.join(', ') || '-'}; monitors ${monitors.join(', ') || '-'}${r.alerts ? '; alert receivers' : ''}; restarting ${r.restarting.join(', ') || '-'}`,
        details: { reload: r },
      });
    }
    return result;
  }

  // Alerts hang off the event log: the engine never waits for a receiver.
  private startAlerts(config: HaloConfig): AlertDispatcher {
    const alerts = new AlertDispatcher({
      cluster: config.cluster.name,
      receivers: config.alerts ?? [],
      subscribe: (listener) => this.events.subscribe(listener),
      append: (event) => this.events.append(event),
      timers: realTimers,
      log: this.opts.log.child({ component: 'alerts' }),
    });
    alerts.start();
    return alerts;
  }

  /** An intent write the state dir refused: probe it at once so status shows why. */
  private async writing<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (isHaloError(err) && err.code === 'HALO_E_STATE_WRITE_FAILED') await this.stateDirWatch?.refresh();
      throw err;
    }
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
      alerts: this.alerts?.status() ?? [],
      memory: this.memoryUse(),
    });
  }

  private memoryUse(): MemoryUse {
    const main = getHeapStatistics();
    const worker = this.coordinator.heap();
    return {
      residentBytes: process.memoryUsage.rss(),
      heaps: [
        { thread: 'main', usedBytes: main.used_heap_size, totalBytes: main.total_heap_size },
        ...(worker ? [{ thread: 'coordination' as const, ...worker }] : []),
      ],
    };
  }
}
