import { setTimeout as sleep } from 'node:timers/promises';
import { type Ec2Api, type Ec2Settings, sdkEc2Api } from '../../../cloud/aws/ec2-api.js';
import { Ec2Error } from '../../../cloud/aws/ec2-error.js';
import { type ImdsOptions, instanceEni } from '../../../cloud/aws/imds.js';
import type { FenceAction } from '../../../coordination/deadman/fence-action.js';
import { HaloError } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import { formatDuration } from '../../../util/duration.js';
import type { CheckResult, ResourceContext, ResourceInstance } from '../types.js';
import { addLocalAddress, hasLocalAddress, type LocalAddress, removeLocalAddress } from './local-address.js';

/**
 * The shape every AWS resource type shares: make some cloud state point at this node's ENI
 * on start, keep it there while active (a reconcile loop plus every check), and forget it on
 * stop. Stop never calls the API: the next owner takes the state over (last writer wins; only
 * the lease holder starts the resource), and a stop that depended on the API could fail while
 * the API is down, which would escalate to self-fencing for nothing.
 */

/** One cloud entry that does not send traffic to this node. */
export interface Drift {
  /** What it is (route table id, allocation id, ENI id). */
  id: string;
  /** Where it points now, for messages: an ENI id, "no route", "not associated". */
  found: string;
}

export interface Stamp {
  cluster: string;
  group: string;
  node: string;
  term: string;
}

/** The type-specific part: what to read and what to write. */
export interface CloudTarget {
  /** For messages, e.g. "route 172.16.0.1/32 in rtb-a, rtb-b". */
  readonly what: string;
  /** Reads the cloud state; returns the entries not pointing at `eni`. Throws on API errors. */
  inspect(api: Ec2Api, eni: string, node: string, signal: AbortSignal): Promise<Drift[]>;
  /** Points the drifted entries at `eni`. */
  repair(api: Ec2Api, eni: string, node: string, drifts: Drift[], signal: AbortSignal): Promise<void>;
  /** Audit tags written on every start; failures are logged, never fatal. */
  stamp?(api: Ec2Api, stamp: Stamp, signal: AbortSignal): Promise<void>;
}

export interface AwsSettings {
  eni?: Record<string, string> | undefined;
  region?: string | undefined;
  endpoint?: string | undefined;
  callTimeout: number;
  reconcile: number;
  onApiError: 'warn' | 'fail';
}

export interface CloudResourceOptions {
  name: string;
  target: CloudTarget;
  settings: AwsSettings;
  /** The address to hold locally while active; undefined = none. */
  local?: LocalAddress | undefined;
  /** Injected in tests; the SDK otherwise. */
  api?: (settings: Ec2Settings) => Ec2Api;
  /** Injected in tests; IMDSv2 otherwise. */
  lookupEni?: (opts: ImdsOptions) => Promise<string>;
}

type Reconciled = { ok: true; repaired: Drift[] } | { ok: false; error: Error };

export class CloudResource implements ResourceInstance {
  private readonly opts: CloudResourceOptions;
  private settings: AwsSettings;
  /** Set while this node holds the resource; aborted by stop (ends the loop and any call). */
  private life: AbortController | null = null;
  private eni: string | null = null;
  private node = '';
  private loop: Promise<void> | null = null;
  private inflight: Promise<Reconciled> | null = null;
  private lastVerifiedAt = 0;
  private lastLoopError: string | null = null;

  constructor(opts: CloudResourceOptions) {
    this.opts = opts;
    this.settings = opts.settings;
  }

  private api(log: Logger): Ec2Api {
    const { region, endpoint, callTimeout } = this.settings;
    return (this.opts.api ?? sdkEc2Api)({ region, endpoint, callTimeoutMs: callTimeout, log });
  }

  async start(ctx: ResourceContext): Promise<void> {
    await this.halt();
    const { target, local } = this.opts;
    const eni = await this.resolveEni(ctx);
    // The address first: once the cloud routes traffic here, the node must already answer it.
    if (local) await addLocalAddress(local, ctx.signal);
    const api = this.api(ctx.log);
    const drifts = await target.inspect(api, eni, ctx.node, ctx.signal);
    if (drifts.length > 0) await target.repair(api, eni, ctx.node, drifts, ctx.signal);
    ctx.log.info({ resource: ctx.resource, eni, moved: drifts }, `${target.what} now point at ${eni}`);
    if (target.stamp) {
      try {
        await target.stamp(
          api,
          { cluster: ctx.cluster, group: ctx.group, node: ctx.node, term: ctx.term },
          ctx.signal,
        );
      } catch (err) {
        ctx.log.warn(
          { resource: ctx.resource, err: (err as Error).message },
          'could not tag cloud resources',
        );
      }
    }
    this.eni = eni;
    this.node = ctx.node;
    this.lastVerifiedAt = Date.now();
    this.lastLoopError = null;
    this.life = new AbortController();
    if (this.settings.reconcile > 0) this.loop = this.reconcileLoop(this.life.signal, ctx.log, ctx.resource);
  }

  async stop(ctx: ResourceContext): Promise<void> {
    await this.halt();
    if (this.opts.local) await removeLocalAddress(this.opts.local, ctx.signal);
  }

  /** Ends the reconcile loop and any call in flight; afterwards nothing writes to the cloud. */
  private async halt(): Promise<void> {
    this.life?.abort(new Error('resource stopping'));
    this.life = null;
    await this.loop;
    await this.inflight;
    this.loop = null;
    this.eni = null;
  }

  async check(ctx: ResourceContext): Promise<CheckResult> {
    const life = this.life;
    const eni = this.eni;
    if (!life || !eni) return { state: 'stopped', reason: 'not active on this node' };
    const notes: string[] = [];
    const { local, target } = this.opts;
    if (local) {
      try {
        if (!(await hasLocalAddress(local, ctx.signal))) {
          await addLocalAddress(local, ctx.signal);
          notes.push(`re-added ${local.ip}/${local.prefix} on ${local.device}`);
          ctx.log.warn({ resource: ctx.resource, ...local }, 'local address was missing; re-added');
        }
      } catch (err) {
        return { state: 'failed', reason: (err as Error).message };
      }
    }
    const result = await this.reconcile(AbortSignal.any([ctx.signal, life.signal]), ctx.log, ctx.resource);
    if (result.ok) {
      if (result.repaired.length > 0) notes.push(`put back ${describeDrifts(result.repaired)}`);
      notes.push(`${target.what} point at ${eni}`);
      return { state: 'running', reason: notes.join('; ') };
    }
    const error = result.error;
    if (error instanceof Ec2Error && error.transient) {
      const ago = formatDuration(Math.max(0, Math.round((Date.now() - this.lastVerifiedAt) / 1000)) * 1000);
      const reason = `could not verify ${target.what}: ${error.message}; last verified ${ago} ago`;
      return this.settings.onApiError === 'warn'
        ? { state: 'running', reason: `warning: ${reason} (onApiError: warn, no failover)` }
        : { state: 'failed', reason };
    }
    return { state: 'failed', reason: error.message };
  }

  fenceActions(): FenceAction[] {
    const local = this.opts.local;
    return local ? [{ kind: 'ip-del', address: local.ip, prefix: local.prefix, dev: local.device }] : [];
  }

  async applyLive(params: Record<string, unknown>): Promise<void> {
    const next = { ...this.settings };
    if (typeof params['callTimeout'] === 'number') next.callTimeout = params['callTimeout'];
    if (typeof params['reconcile'] === 'number') next.reconcile = params['reconcile'];
    if (params['onApiError'] === 'warn' || params['onApiError'] === 'fail')
      next.onApiError = params['onApiError'];
    this.settings = next;
  }

  private async resolveEni(ctx: ResourceContext): Promise<string> {
    const map = this.settings.eni;
    if (map !== undefined) {
      const eni = map[ctx.node];
      if (eni === undefined) {
        throw new HaloError(
          'HALO_E_CONFIG_INVALID',
          `resource ${this.opts.name}: no ENI for node ${ctx.node} in "eni"; add it, or omit "eni" to look it up through instance metadata`,
          { node: ctx.node },
        );
      }
      return eni;
    }
    return (this.opts.lookupEni ?? instanceEni)({ signal: ctx.signal, timeoutMs: this.settings.callTimeout });
  }

  /** One read (and repair) at a time: a check during a loop pass shares that pass. */
  private reconcile(signal: AbortSignal, log: Logger, resource: string): Promise<Reconciled> {
    if (this.inflight) return this.inflight;
    const eni = this.eni;
    if (!eni) return Promise.resolve({ ok: false, error: new Error('not active on this node') });
    const run = async (): Promise<Reconciled> => {
      try {
        const api = this.api(log);
        const { target } = this.opts;
        const drifts = await target.inspect(api, eni, this.node, signal);
        if (drifts.length > 0) {
          log.warn(
            { resource, eni, drifted: drifts },
            `${target.what}: drifted entries found; putting them back`,
          );
          await target.repair(api, eni, this.node, drifts, signal);
        }
        this.lastVerifiedAt = Date.now();
        return { ok: true, repaired: drifts };
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
      }
    };
    const p = run().finally(() => {
      if (this.inflight === p) this.inflight = null;
    });
    this.inflight = p;
    return p;
  }

  private async reconcileLoop(signal: AbortSignal, log: Logger, resource: string): Promise<void> {
    while (!signal.aborted) {
      try {
        await sleep(this.settings.reconcile, undefined, { signal });
      } catch {
        return;
      }
      const result = await this.reconcile(signal, log, resource);
      if (signal.aborted) return;
      const text = result.ok ? null : result.error.message;
      if (text !== null && text !== this.lastLoopError) log.warn({ resource, err: text }, 'reconcile failed');
      else if (text === null && this.lastLoopError !== null) log.info({ resource }, 'reconcile works again');
      this.lastLoopError = text;
    }
  }
}

export function describeDrifts(drifts: Drift[]): string {
  return drifts.map((d) => `${d.id} (was ${d.found})`).join(', ');
}
