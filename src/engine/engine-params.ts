import type { ResourceConfig } from '../config/model.js';
import type { ClusterIntent } from '../coordination/types.js';
import { HaloError } from '../errors.js';
import type { EngineCore } from './engine-core.js';
import { opTimeouts } from './group-runner.js';
import type { GroupSlot } from './group-state.js';
import { checkParamsOnHost, validateParamChanges } from './param-changes.js';
import {
  type AppliedRecord,
  newOverrides,
  type ParamOverride,
  type ParamsView,
  paramIntentKeys,
  parseParamIntent,
  type ResourceParamIntent,
  remoteParamsView,
} from './param-intent.js';
import type { ResourceSlot } from './resource-slot.js';
import { errorText, runWithTimeout } from './timers.js';

/** What this node's instance of a resource runs with, and what waits for its next start. */
interface LocalOverrides {
  /** Every override taken (in effect or pending): key → version. */
  known: Record<string, number>;
  inEffect: Record<string, ParamOverride>;
  pending: Record<string, ParamOverride>;
}

/**
 * Parameter changes as cluster state (see param-intent.ts): `set` from any node validates the
 * change and writes it to the replicated intent; every node then follows the intent — a
 * resource not running here takes every accepted value at once (its next start uses them),
 * the node running it applies `live` parameters at once and keeps `restart` ones pending
 * until the resource next starts, and records what it runs with so every node can show it.
 */
export class EngineParams {
  private readonly core: EngineCore;
  private readonly local = new Map<string, LocalOverrides>();
  /** The last applied record this node wrote per resource, so it is written once per change. */
  private readonly written = new Map<string, string>();
  /** Live applications under way per resource, so `set` can wait for (and report) them. */
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(core: EngineCore) {
    this.core = core;
  }

  private parsedFrom: ClusterIntent | null = null;
  private parsedCache = new Map<string, ResourceParamIntent>();

  /** Parsed once per intent snapshot: every resource start asks (1000 groups start at once). */
  private parsed(): Map<string, ResourceParamIntent> {
    const intent = this.core.opts.coordinator.intent();
    if (intent !== this.parsedFrom) {
      this.parsedCache = parseParamIntent(intent);
      this.parsedFrom = intent;
    }
    return this.parsedCache;
  }

  private localOf(group: string, resource: string): LocalOverrides {
    const id = `${group}/${resource}`;
    let l = this.local.get(id);
    if (!l) {
      l = { known: {}, inEffect: {}, pending: {} };
      this.local.set(id, l);
    }
    return l;
  }

  /** The resource's params from the config file (overrides are layered on these). */
  private configParams(group: string, resource: string): Record<string, unknown> {
    const g = this.core.opts.config.groups.find((x) => x.name === group);
    return { ...(g?.resources.find((r) => r.name === resource)?.params ?? {}) };
  }

  /** Follows the intent: called at start and whenever the replicated intent changes. */
  sync(): void {
    const { core } = this;
    for (const [id, state] of this.parsed()) {
      const [group, resource] = id.split('/') as [string, string];
      const g = core.groups.get(group);
      const r = g?.resources.get(resource);
      if (!g || !r) continue;
      const l = this.localOf(group, resource);
      const fresh = newOverrides(state.overrides, l.known);
      if (Object.keys(fresh).length === 0) continue;
      for (const [k, o] of Object.entries(fresh)) l.known[k] = o.version;
      if (r.state === 'stopped') {
        this.takeAll(g, r, state.overrides);
        continue;
      }
      const before = this.inflight.get(id) ?? Promise.resolve();
      const run = before.catch(() => {}).then(() => this.applyRunning(g, r, fresh));
      this.inflight.set(id, run);
      // The failure is an event already; `set` awaits `run` itself to report it.
      run
        .catch(() => {})
        .finally(() => {
          if (this.inflight.get(id) === run) this.inflight.delete(id);
        });
    }
  }

  /** Not running here: the instance is rebuilt from the config and every accepted override. */
  private takeAll(g: GroupSlot, r: ResourceSlot, overrides: Record<string, ParamOverride>): void {
    const l = this.localOf(g.config.name, r.config.name);
    const values = Object.fromEntries(Object.entries(overrides).map(([k, o]) => [k, o.value]));
    this.core.replaceInstance(g, r, { ...this.configParams(g.config.name, r.config.name), ...values });
    l.inEffect = { ...overrides };
    l.pending = {};
  }

  /** Running here: live keys now (when the type can), the rest at the next start. */
  private async applyRunning(
    g: GroupSlot,
    r: ResourceSlot,
    fresh: Record<string, ParamOverride>,
  ): Promise<void> {
    const { core } = this;
    const group = g.config.name;
    const resource = r.config.name;
    const l = this.localOf(group, resource);
    const modes = core.opts.resourceTypes?.(r.config.type)?.paramModes ?? {};
    const canApplyLive = r.state === 'running' && r.instance.applyLive !== undefined;
    const live = canApplyLive ? Object.keys(fresh).filter((k) => modes[k] === 'live') : [];
    const liveValues = Object.fromEntries(live.map((k) => [k, fresh[k]!.value]));
    const liveError = live.length > 0 ? await this.applyLive(g, r, liveValues) : null;
    if (live.length > 0 && liveError === null) for (const k of live) l.inEffect[k] = fresh[k]!;
    const applied = liveError === null ? live : [];
    const pending = Object.keys(fresh).filter((k) => !applied.includes(k));
    if (pending.length > 0) {
      r.addPending(Object.fromEntries(pending.map((k) => [k, fresh[k]!.value])));
      for (const k of pending) l.pending[k] = fresh[k]!;
    }
    core.event({
      type: 'params',
      level: liveError ? 'warn' : 'info',
      group,
      resource,
      message: liveError
        ? `applying ${live.join(', ')} live failed (${liveError}): pending until the resource restarts`
        : `parameters changed: live ${applied.join(', ') || '-'}; pending until restart ${pending.join(', ') || '-'}`,
      details: { live: applied, pending },
    });
    if (liveError)
      throw new HaloError(
        'HALO_E_PARAM_APPLY_FAILED',
        `applying ${live.join(', ')} to ${group}/${resource} failed: ${liveError}`,
        { group, resource },
      );
    if (applied.length > 0) this.recordApplied(g, r);
  }

  /** Applies `values` to the running instance (bounded by its check timeout); the error, or null. */
  private async applyLive(
    g: GroupSlot,
    r: ResourceSlot,
    values: Record<string, unknown>,
  ): Promise<string | null> {
    const { core } = this;
    const outcome = await runWithTimeout(core.opts.timers, opTimeouts(r.config).check, undefined, (signal) =>
      r.instance.applyLive!(values, core.resourceContext(g, r.config.name, g.state.term ?? '', signal)),
    );
    if (outcome.status === 'done') {
      r.appliedLive(values);
      return null;
    }
    return outcome.status === 'error' ? errorText(outcome.error) : outcome.status;
  }

  /**
   * `halo config apply` changed the config file's values of `values`' keys (undefined: the key
   * was removed). Keys an operator set with `resource set` keep the accepted value. Where the
   * resource runs, live keys apply now and the others wait for its next start, which the
   * caller may bring forward by restarting it; elsewhere the next start uses them.
   */
  async reloadBase(
    g: GroupSlot,
    r: ResourceSlot,
    values: Record<string, unknown>,
  ): Promise<{ live: string[]; restart: string[]; kept: string[] }> {
    const { core } = this;
    const overridden = this.parsed().get(`${g.config.name}/${r.config.name}`)?.overrides ?? {};
    const kept = Object.keys(values).filter((k) => k in overridden);
    const changes = Object.fromEntries(Object.entries(values).filter(([k]) => !(k in overridden)));
    const keys = Object.keys(changes);
    if (keys.length === 0) return { live: [], restart: [], kept };
    if (r.state === 'stopped') {
      core.replaceInstance(g, r, { ...r.config.params, ...changes });
      return { live: keys, restart: [], kept };
    }
    const modes = core.opts.resourceTypes?.(r.config.type)?.paramModes ?? {};
    const canApplyLive = r.state === 'running' && r.instance.applyLive !== undefined;
    const live = canApplyLive ? keys.filter((k) => modes[k] === 'live' && changes[k] !== undefined) : [];
    const liveError =
      live.length > 0
        ? await this.applyLive(g, r, Object.fromEntries(live.map((k) => [k, changes[k]])))
        : null;
    const applied = liveError === null ? live : [];
    const restart = keys.filter((k) => !applied.includes(k));
    if (restart.length > 0) r.addPending(Object.fromEntries(restart.map((k) => [k, changes[k]])));
    core.event({
      type: 'params',
      level: liveError ? 'warn' : 'info',
      group: g.config.name,
      resource: r.config.name,
      message: liveError
        ? `config reload: applying ${live.join(', ')} live failed (${liveError}): pending until the resource restarts`
        : `config reload: live ${applied.join(', ') || '-'}; pending until restart ${restart.join(', ') || '-'}`,
      details: { live: applied, pending: restart },
    });
    return { live: applied, restart, kept };
  }

  /** Before a start: the pending values become the instance's (called by the group runner). */
  beforeStart(g: GroupSlot, r: ResourceSlot): string[] {
    const keys = Object.keys(r.pending);
    const l = this.localOf(g.config.name, r.config.name);
    Object.assign(l.inEffect, l.pending);
    l.pending = {};
    if (keys.length > 0) this.core.replaceInstance(g, r, { ...r.config.params, ...r.pending });
    return keys;
  }

  /** The resource runs here: tell every node which overrides it runs with (once per change). */
  recordApplied(g: GroupSlot, r: ResourceSlot): void {
    const group = g.config.name;
    const resource = r.config.name;
    const l = this.localOf(group, resource);
    const record: AppliedRecord = {
      node: this.core.opts.node,
      values: Object.fromEntries(Object.entries(l.inEffect).map(([k, o]) => [k, o.value])),
      versions: Object.fromEntries(Object.entries(l.inEffect).map(([k, o]) => [k, o.version])),
    };
    const current = this.parsed().get(`${group}/${resource}`);
    if (!current || Object.keys(current.overrides).length === 0) return;
    const text = JSON.stringify(record);
    if (JSON.stringify(current.applied) === text || this.written.get(`${group}/${resource}`) === text) return;
    this.written.set(`${group}/${resource}`, text);
    this.core.writeIntent({ [paramIntentKeys.applied(group, resource)]: record }).catch((err: unknown) => {
      // Only the display of pending values on other nodes depends on it: try again next time.
      this.written.delete(`${group}/${resource}`);
      this.core.opts.log.warn({ err, group, resource }, 'could not record the parameters in effect');
    });
  }

  /** The same answer on every node: this node's own state where it runs the resource. */
  view(group: string, resource: string, parsed = this.parsed()): ParamsView {
    const { core } = this;
    const g = core.group(group);
    const r = core.resource(group, resource);
    if (r.state !== 'stopped') return { params: { ...r.config.params }, pending: { ...r.pending } };
    return remoteParamsView(
      this.configParams(group, resource),
      parsed.get(`${group}/${resource}`),
      core.ownerOf(g),
    );
  }

  /** Pending values of every resource for a status (the intent parsed once). */
  pendingOf(): (group: string, resource: string) => Record<string, unknown> {
    const parsed = this.parsed();
    return (group, resource) => this.view(group, resource, parsed).pending;
  }

  /**
   * Validates the change (schema, then what only this host can check: the user exists, the
   * directory is there) and writes it to the replicated intent; resolves once a majority has
   * it. On the node running the resource, waits for the live part to apply.
   */
  async set(
    group: string,
    resource: string,
    changes: Record<string, unknown>,
  ): Promise<{ live: string[]; pending: string[] }> {
    const { core } = this;
    const g = core.group(group);
    const r = core.resource(group, resource);
    const accepted = this.view(group, resource);
    const current: ResourceConfig = { ...r.config, params: { ...accepted.params, ...accepted.pending } };
    const spec = core.opts.resourceTypes?.(r.config.type);
    const values = validateParamChanges(current, spec, changes);
    await checkParamsOnHost(values, { group, resource, type: r.config.type });
    const keys = Object.keys(values);
    await core.writeIntent(
      Object.fromEntries(keys.map((k) => [paramIntentKeys.param(group, resource, k), values[k]])),
    );
    core.event({
      type: 'intent',
      group,
      resource,
      message: `parameters of ${group}/${resource} set: ${keys.join(', ')}`,
      details: { keys },
    });
    const modes = spec?.paramModes ?? {};
    const runsSomewhere = r.state !== 'stopped' || core.ownerOf(g) !== null;
    if (r.state !== 'stopped') {
      // The intent event may not have been handled yet: follow it now, and report a live failure.
      this.sync();
      await this.inflight.get(`${group}/${resource}`);
      return { live: keys.filter((k) => !(k in r.pending)), pending: keys.filter((k) => k in r.pending) };
    }
    if (!runsSomewhere) return { live: keys, pending: [] };
    const live = keys.filter((k) => modes[k] === 'live');
    return { live, pending: keys.filter((k) => !live.includes(k)) };
  }
}
