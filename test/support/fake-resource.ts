import type { GroupConfig, ResourceConfig } from '../../src/config/model.js';
import type { FenceAction } from '../../src/coordination/deadman/fence-action.js';
import type { MonitorInstance, MonitorResult } from '../../src/engine/monitors/types.js';
import type {
  CheckResult,
  ResourceContext,
  ResourceInstance,
  ResourceState,
} from '../../src/engine/resources/types.js';

/**
 * ok · fail (throws with output) · hang (until aborted) · stuck (ignores the abort too) ·
 * late (ignores the abort and returns when the test calls `finishLate()`, journalled
 * as `<op> <name> returned`: an `ip addr add` still in flight when its start was aborted).
 */
export type Behavior = 'ok' | 'fail' | 'hang' | 'stuck' | 'late';

export class FakeResource implements ResourceInstance {
  startBehavior: Behavior = 'ok';
  stopBehavior: Behavior = 'ok';
  /** What check says; by default `running` between a successful start and stop, else `stopped`. */
  checkState: ResourceState | undefined = undefined;
  /** A successful start happened and no stop since. */
  started = false;
  /** While set, check waits for it (a test holds a probe in flight this way). */
  checkGate: Promise<void> | undefined = undefined;
  /** A copy this instance did not start runs (a probe should find it); a successful stop ends it. */
  stray = false;
  readonly live: Array<Record<string, unknown>> = [];
  private lateFinishers: Array<() => void> = [];

  constructor(
    readonly name: string,
    readonly params: Record<string, unknown>,
    private readonly journal: string[],
  ) {}

  async start(ctx: ResourceContext): Promise<void> {
    await this.act('start', this.startBehavior, ctx);
    this.started = true;
  }

  async stop(ctx: ResourceContext): Promise<void> {
    await this.act('stop', this.stopBehavior, ctx);
    this.started = false;
    this.stray = false;
  }

  async check(): Promise<CheckResult> {
    if (this.checkGate) await this.checkGate;
    return {
      state: this.checkState ?? (this.started || this.stray ? 'running' : 'stopped'),
      reason: 'fake check',
    };
  }

  fenceActions(): FenceAction[] {
    return [{ kind: 'run', argv: ['fence', this.name], timeoutMs: 1000 }];
  }

  async applyLive(params: Record<string, unknown>): Promise<void> {
    this.live.push(params);
  }

  /** Lets every `late` operation in flight return. */
  finishLate(): void {
    const finishers = this.lateFinishers;
    this.lateFinishers = [];
    for (const finish of finishers) finish();
  }

  private act(op: string, behavior: Behavior, ctx: ResourceContext): Promise<void> {
    this.journal.push(`${op} ${this.name}`);
    switch (behavior) {
      case 'ok':
        return Promise.resolve();
      case 'fail':
        return Promise.reject(
          Object.assign(new Error(`${op} of ${this.name} failed`), { output: `${this.name} said no` }),
        );
      case 'hang':
        return new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        );
      case 'stuck':
        return new Promise(() => {});
      case 'late':
        return new Promise((resolve) =>
          this.lateFinishers.push(() => {
            this.journal.push(`${op} ${this.name} returned`);
            resolve();
          }),
        );
    }
  }
}

/** Resource factory for the engine: remembers the latest instance per `group/resource` and a shared journal. */
export class FakeResources {
  readonly journal: string[] = [];
  readonly latest = new Map<string, FakeResource>();
  created = 0;
  /** Behaviour presets applied to every new instance of `group/resource`. */
  readonly presets = new Map<
    string,
    Partial<Pick<FakeResource, 'startBehavior' | 'stopBehavior' | 'checkState' | 'stray' | 'checkGate'>>
  >();

  readonly factory = (group: GroupConfig, rc: ResourceConfig): ResourceInstance => {
    const instance = new FakeResource(rc.name, rc.params, this.journal);
    Object.assign(instance, this.presets.get(`${group.name}/${rc.name}`) ?? {});
    this.latest.set(`${group.name}/${rc.name}`, instance);
    this.created++;
    return instance;
  };

  get(key: string): FakeResource {
    const r = this.latest.get(key);
    if (!r) throw new Error(`no fake resource ${key}`);
    return r;
  }
}

/** A monitor whose result the test sets; `hang` makes the probe wait for its abort. */
export class FakeMonitor implements MonitorInstance {
  ok = true;
  output = 'fine';
  hang = false;
  probes = 0;

  async probe(ctx: { signal: AbortSignal }): Promise<MonitorResult> {
    this.probes++;
    if (this.hang) {
      await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    }
    return { ok: this.ok, output: this.output };
  }
}
