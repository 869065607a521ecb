import type { Etcd3, IKeyValue } from 'etcd3';
import type { Logger } from '../../log.js';
import type { AcquireResult } from './etcd-commands.js';
import type { EtcdKeys } from './etcd-keys.js';
import type { KeyValue } from './etcd-mirror.js';
import type { EtcdTiming } from './etcd-timing.js';
import { withTimeout } from './lease-keeper.js';

/**
 * Every write the etcd backend makes, each one transaction with its own deadline (no call can
 * outlive the lease it serves) and cancellable by the coordinator's stop signal. They report
 * what etcd answered and decide nothing: the core does.
 */

export interface EtcdWritesOptions {
  client: Etcd3;
  keys: EtcdKeys;
  timing: EtcdTiming;
  node: string;
  bootId: string;
  log: Logger;
}

export class EtcdWrites {
  private readonly opts: EtcdWritesOptions;

  constructor(opts: EtcdWritesOptions) {
    this.opts = opts;
  }

  /** Creates the group's key under `leaseId` unless it exists; then reports what etcd holds. */
  async acquire(group: string, leaseId: string, signal: AbortSignal): Promise<AcquireResult> {
    const key = this.opts.keys.group(group);
    try {
      const value = JSON.stringify({ node: this.opts.node, bootId: this.opts.bootId });
      const res = await withTimeout(
        this.opts.client
          .if(key, 'Create', '==', 0)
          .then(this.opts.client.put(key).value(value).lease(leaseId))
          .else(this.opts.client.get(key))
          .options({ deadline: Date.now() + this.opts.timing.callTimeoutMs })
          .commit(),
        this.opts.timing.callTimeoutMs,
        signal,
      );
      if (res.succeeded) return { kind: 'created', term: String(res.header.revision) };
      const kv = res.responses[0]?.response_range?.kvs[0];
      return { kind: 'exists', kv: kv ? keyValue(kv) : null, revision: Number(res.header.revision) };
    } catch (err) {
      return { kind: 'failed', error: (err as Error).message };
    }
  }

  /**
   * Deletes the group's key if it is still `term`, and records the release in the same
   * transaction: the other nodes take over a released group at once, but wait one lease when a
   * key vanishes without one (etcd-core.ts, the takeover guard).
   */
  async deleteKey(group: string, term: string, signal?: AbortSignal): Promise<boolean> {
    const key = this.opts.keys.group(group);
    try {
      await withTimeout(
        this.opts.client
          .if(key, 'Create', '==', term)
          .then(
            this.opts.client.put(this.opts.keys.released(group)).value(term),
            this.opts.client.delete().key(key),
          )
          .options({ deadline: Date.now() + this.opts.timing.callTimeoutMs })
          .commit(),
        this.opts.timing.callTimeoutMs,
        signal,
      );
      return true;
    } catch (err) {
      this.opts.log.debug({ group, err: (err as Error).message }, 'etcd delete failed');
      return false;
    }
  }

  /**
   * A failed stop: the group's key must neither outlive the deadman's deadline by much nor
   * stay forever on our (renewed) lease. Re-attach it to a fresh lease nobody renews; etcd
   * drops it one TTL later, after the deadman deadline, which is at most one TTL from the
   * last keepalive of the old lease.
   */
  async moveAbandoned(
    group: string,
    term: string,
    signal: AbortSignal,
  ): Promise<'moved' | 'gone' | 'failed'> {
    const key = this.opts.keys.group(group);
    const lease = this.opts.client.lease(this.opts.timing.ttlSec, {
      autoKeepAlive: false,
      deadline: Date.now() + this.opts.timing.callTimeoutMs,
    });
    lease.on('lost', () => undefined);
    try {
      const id = await withTimeout(lease.grant(), this.opts.timing.callTimeoutMs, signal);
      const value = JSON.stringify({ node: this.opts.node, bootId: this.opts.bootId, abandoned: true });
      const res = await withTimeout(
        this.opts.client
          .if(key, 'Create', '==', term)
          .then(this.opts.client.put(key).value(value).lease(id))
          .options({ deadline: Date.now() + this.opts.timing.callTimeoutMs })
          .commit(),
        this.opts.timing.callTimeoutMs,
        signal,
      );
      return res.succeeded ? 'moved' : 'gone';
    } catch (err) {
      this.opts.log.debug({ group, err: (err as Error).message }, 'could not move the abandoned key yet');
      return 'failed';
    } finally {
      lease.release();
    }
  }

  async putNodeRecord(leaseId: string, record: object, signal: AbortSignal): Promise<boolean> {
    try {
      await withTimeout(
        this.opts.client
          .put(this.opts.keys.node(this.opts.node))
          .value(JSON.stringify(record))
          .lease(leaseId)
          .options({ deadline: Date.now() + this.opts.timing.callTimeoutMs })
          .exec(),
        this.opts.timing.callTimeoutMs,
        signal,
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Writes intent entries in one transaction; returns the revision it committed at. */
  async putIntent(entries: ReadonlyArray<[string, unknown]>, timeoutMs: number): Promise<number> {
    const res = await withTimeout(
      this.opts.client.kv.txn(
        {
          compare: [],
          success: entries.map(([k, v]) => ({
            request_put: {
              key: Buffer.from(this.opts.keys.intent(k)),
              value: Buffer.from(JSON.stringify(v)),
            },
          })),
          failure: [],
        },
        { deadline: Date.now() + timeoutMs },
      ),
      timeoutMs,
    );
    return Number(res.header.revision);
  }
}

/** The etcd3 client's key-value record, as the core reads it. */
export function keyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value,
    createRevision: kv.create_revision,
    modRevision: Number(kv.mod_revision),
    lease: kv.lease,
  };
}
