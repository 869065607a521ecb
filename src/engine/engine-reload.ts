import type { ConfigDiff } from '../config/config-diff.js';
import type { HaloConfig } from '../config/model.js';
import type { EngineCore } from './engine-core.js';
import type { EngineMonitors } from './engine-monitors.js';
import type { EngineParams } from './engine-params.js';
import type { GroupSlot } from './group-state.js';
import { inMaintenance } from './intent.js';

/** `restart`: restart each resource a change needs restarted now, one at a time; `next-start`: leave it pending. */
export type ReloadMode = 'restart' | 'next-start';

/** The monitor name restarts for a config reload carry (events and the recovery path). */
export const CONFIG_RELOAD = 'config-reload';

export interface ResourceReload {
  group: string;
  resource: string;
  /** Applied to the running resource now, or used at its next start (it does not run here). */
  applied: string[];
  /** Needs a restart of the resource: restarted one at a time (mode `restart`) or pending. */
  restart: string[];
  /** Keys the file changed that `halo resource set` overrides: the accepted value stays. */
  overridden: string[];
}

export interface ReloadReport {
  resources: ResourceReload[];
  /** `group/monitor` or node monitor names, restarted with their new settings (counters reset). */
  monitors: { added: string[]; changed: string[]; removed: string[] };
  /** Resources this node restarts, in the order it does them. */
  restarting: string[];
}

/**
 * Applies a config whose coordination part is unchanged (the caller checked `needsRestart` is
 * empty) to the running engine: groups the change does not touch are not touched at all; a
 * changed monitor starts afresh and the others keep their counters; parameters apply live where
 * their type allows, the others at the resource's next start, which `restart` brings forward
 * for one resource at a time.
 */
export class EngineReload {
  /** The restarts of the last reload, done one after the other. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly core: EngineCore,
    private readonly monitors: EngineMonitors,
    private readonly params: EngineParams,
  ) {}

  async apply(next: HaloConfig, diff: ConfigDiff, mode: ReloadMode): Promise<ReloadReport> {
    const { core } = this;
    core.opts.config = next;
    const report: ReloadReport = {
      resources: [],
      monitors: { added: [], changed: [], removed: [] },
      restarting: [],
    };
    const toRestart: Array<{ g: GroupSlot; resource: string }> = [];
    for (const change of diff.groups) {
      const g = core.group(change.group);
      const config = next.groups.find((x) => x.name === change.group)!;
      g.config = config;
      for (const { resource, values } of change.params) {
        const r = core.resource(change.group, resource);
        const outcome = await this.params.reloadBase(g, r, values);
        report.resources.push({
          group: change.group,
          resource,
          applied: outcome.live,
          restart: outcome.restart,
          overridden: outcome.kept,
        });
        const unmanaged = inMaintenance(core.intent(), change.group);
        if (outcome.restart.length > 0 && mode === 'restart' && !unmanaged) toRestart.push({ g, resource });
      }
      await this.monitors.reconfigure(g, config.monitors, change.monitors);
      for (const kind of ['added', 'changed', 'removed'] as const)
        report.monitors[kind].push(...change.monitors[kind].map((m) => `${change.group}/${m}`));
    }
    // Groups the diff does not name keep their slot's config object: equal content.
    await this.monitors.reconfigure(null, next.monitors, diff.nodeMonitors);
    for (const kind of ['added', 'changed', 'removed'] as const)
      report.monitors[kind].push(...diff.nodeMonitors[kind]);
    report.restarting = toRestart.map(({ g, resource }) => `${g.config.name}/${resource}`);
    this.queue = this.queue.then(() => this.restartInTurn(toRestart));
    core.kick();
    return report;
  }

  /** Waits for the restarts the last reloads asked for (tests, and `stop`). */
  settled(): Promise<void> {
    return this.queue;
  }

  private async restartInTurn(list: Array<{ g: GroupSlot; resource: string }>): Promise<void> {
    for (const { g, resource } of list) {
      const r = g.resources.get(resource);
      // Moved, stopped or restarted meanwhile: the next start takes the pending values anyway.
      if (!this.core.running || !r || Object.keys(r.pending).length === 0) continue;
      if (g.state.phase !== 'running' || r.state !== 'running') continue;
      // Unmanaged: nothing is restarted; the values wait for the next start after maintenance.
      if (inMaintenance(this.core.intent(), g.config.name)) continue;
      g.state.request({ kind: 'restart', resource, monitor: CONFIG_RELOAD });
      this.core.kick();
      await this.until(() => !g.state.requests.some((q) => q.kind === 'restart' && q.resource === resource));
      await this.until(() => !g.state.restarting && g.state.chain === null);
    }
  }

  private until(done: () => boolean): Promise<void> {
    const { timers } = this.core.opts;
    return new Promise((resolve) => {
      const poll = () => {
        if (done() || !this.core.running) resolve();
        else timers.setTimeout(poll, 50);
      };
      poll();
    });
  }
}
