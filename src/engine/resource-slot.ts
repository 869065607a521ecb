import type { ResourceConfig } from '../config/model.js';
import type { OpDetail, ResourceRunState } from './group-runner.js';
import type { CheckResult, ResourceInstance } from './resources/types.js';

/** Wall-clock milliseconds (what `since` and check times are shown in). */
export type WallClock = () => number;

/**
 * The one owner of a resource's mutable state on this node: its current parameters and
 * instance, run state, last check and failure, and parameter changes waiting for a restart.
 * Readers use the getters; changes go through the named methods below.
 */
export class ResourceSlot {
  private readonly clock: WallClock;
  private _config: ResourceConfig;
  private _instance: ResourceInstance;
  private _state: ResourceRunState = 'stopped';
  private _since: number;
  private _lastCheck: CheckRecord | null = null;
  private _lastError: string | null = null;
  private _lastOutput: string | null = null;
  private _pending: Record<string, unknown> = {};

  constructor(config: ResourceConfig, instance: ResourceInstance, clock: WallClock) {
    this.clock = clock;
    this._config = config;
    this._instance = instance;
    this._since = clock();
  }

  get config(): ResourceConfig {
    return this._config;
  }
  get instance(): ResourceInstance {
    return this._instance;
  }
  get state(): ResourceRunState {
    return this._state;
  }
  get since(): number {
    return this._since;
  }
  get lastCheck(): CheckRecord | null {
    return this._lastCheck;
  }
  get lastError(): string | null {
    return this._lastError;
  }
  /** Output of the operation that failed last (its error names only the last line). */
  get lastOutput(): string | null {
    return this._lastOutput;
  }
  /** Restart-mode parameter changes waiting for the next start of this resource. */
  get pending(): Readonly<Record<string, unknown>> {
    return this._pending;
  }

  /** The runner reports a state change; a failure keeps its reason and output. */
  changed(state: ResourceRunState, detail: Pick<OpDetail, 'reason' | 'output'>): void {
    this._state = state;
    this._since = this.clock();
    if (state === 'failed') {
      this._lastError = detail.reason ?? null;
      this._lastOutput = detail.output ?? null;
    }
  }

  /**
   * `halo cleanup`: the last failure is forgotten. A failed resource of a group stopped here
   * counts as stopped again; the probe that follows the cleanup looks whether anything runs.
   */
  clearFailure(groupStopped: boolean): void {
    this._lastError = null;
    this._lastOutput = null;
    if (!groupStopped || this._state !== 'failed') return;
    this._state = 'stopped';
    this._since = this.clock();
  }

  checked(result: CheckResult): void {
    this._lastCheck = { ...result, at: new Date(this.clock()).toISOString() };
  }

  /** New parameters need a new instance (built by `make` from the new config); pending ones are consumed. */
  replaceParams(params: Record<string, unknown>, make: (config: ResourceConfig) => ResourceInstance): void {
    this._config = { ...this._config, params: defined(params) };
    this._instance = make(this._config);
    this._pending = {};
  }

  /** Live parameters were applied to the running instance: the config follows. */
  appliedLive(values: Record<string, unknown>): void {
    this._config = { ...this._config, params: defined({ ...this._config.params, ...values }) };
  }

  /** Copy-on-write: a `pending` view once read never changes. */
  addPending(values: Record<string, unknown>): void {
    this._pending = { ...this._pending, ...values };
  }
}

/** A config reload removes a key by setting it to undefined: the type's default applies again. */
function defined(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
}

export interface CheckRecord {
  state: CheckResult['state'];
  reason?: string;
  output?: string;
  at: string;
}
