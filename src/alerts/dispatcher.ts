import type { AlertReceiverConfig } from '../config/model.js';
import type { EventInput, HaloEvent } from '../engine/event-log.js';
import type { Timers } from '../engine/timers.js';
import type { Logger } from '../log.js';
import { type Alert, alertOf, wanted } from './alert.js';
import { AlertQueue, type QueueStats, type SendFn } from './queue.js';
import { scriptSender } from './receivers/script.js';
import { smtpSender } from './receivers/smtp.js';
import { snmpSender } from './receivers/snmp.js';
import { webhookSender } from './receivers/webhook.js';

/** See DeliveryPolicy.settleMs: a failover is over by then (bench:failover `--alerts down`). */
export const ALERT_SETTLE_MS = 1000;

/** What `halo status` and the metrics show per receiver. */
export interface ReceiverStatus extends QueueStats {
  name: string;
  type: AlertReceiverConfig['type'];
}

export interface AlertDispatcherOptions {
  cluster: string;
  receivers: readonly AlertReceiverConfig[];
  /** The event log's subscribe: alerts are derived from events, after the engine acted. */
  subscribe(listener: (event: HaloEvent) => void): () => void;
  /** Appends `alert-failed` events. */
  append(event: EventInput): void;
  timers: Pick<Timers, 'setTimeout'>;
  log?: Logger;
  /** Tests replace the real senders. */
  sender?(receiver: AlertReceiverConfig): SendFn;
}

export function realSender(r: AlertReceiverConfig): SendFn {
  switch (r.type) {
    case 'script':
      return scriptSender(r);
    case 'webhook':
      return webhookSender(r);
    case 'smtp':
      return smtpSender(r);
    case 'snmp':
      return snmpSender(r);
  }
}

/**
 * Turns events into alerts and hands each to the queues of the receivers that want it. The
 * event log calls listeners synchronously from `append`, so all this does there is a
 * classification and a push: delivery runs on each queue's own loop.
 */
export class AlertDispatcher {
  private readonly queues = new Map<string, { receiver: AlertReceiverConfig; queue: AlertQueue }>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly opts: AlertDispatcherOptions) {}

  start(): void {
    const { opts } = this;
    for (const receiver of opts.receivers) {
      const send = (opts.sender ?? realSender)(receiver);
      const retries = receiver.type === 'webhook' ? receiver.retries : 0;
      const backoffMs = receiver.type === 'webhook' ? receiver.backoffMs : 0;
      const queue = new AlertQueue(
        {
          queueSize: receiver.queueSize,
          timeoutMs: receiver.timeoutMs,
          retries,
          backoffMs,
          settleMs: ALERT_SETTLE_MS,
        },
        send,
        opts.timers,
        {
          failed: (alert, error, attempts) => this.failed(receiver, alert, error, attempts),
          sent: (alert, attempts) =>
            opts.log?.debug({ receiver: receiver.name, task: alert.task, attempts }, 'alert sent'),
        },
      );
      this.queues.set(receiver.name, { receiver, queue });
      queue.start();
    }
    if (this.queues.size > 0) this.unsubscribe = opts.subscribe((event) => this.onEvent(event));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await Promise.all([...this.queues.values()].map(({ queue }) => queue.stop()));
  }

  status(): ReceiverStatus[] {
    return [...this.queues.values()].map(({ receiver, queue }) => ({
      name: receiver.name,
      type: receiver.type,
      ...queue.stats,
    }));
  }

  /** Called by the event log for every event, synchronously: classify and push, nothing more. */
  onEvent(event: HaloEvent): void {
    // Never alert about alert delivery itself: a dead receiver would feed its own queue.
    if (event.type === 'alert-failed') return;
    let alert: Alert | null;
    try {
      alert = alertOf(event, this.opts.cluster);
    } catch (err) {
      this.opts.log?.error({ err, seq: event.seq }, 'alert classification failed');
      return;
    }
    if (!alert) return;
    for (const { receiver, queue } of this.queues.values()) {
      if (!wanted(receiver, alert)) continue;
      if (!queue.push(alert))
        this.opts.log?.warn(
          { receiver: receiver.name, dropped: queue.stats.dropped },
          'alert queue full: dropped the oldest alert',
        );
    }
  }

  private failed(receiver: AlertReceiverConfig, alert: Alert, error: string, attempts: number): void {
    this.opts.log?.warn(
      { receiver: receiver.name, task: alert.task, attempts, error },
      'alert delivery failed',
    );
    this.opts.append({
      type: 'alert-failed',
      level: 'warn',
      ...(alert.group !== undefined ? { group: alert.group } : {}),
      message: `alert ${alert.kind}/${alert.task} to ${receiver.name} (${receiver.type}) failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${firstLine(error)}`,
      output: error,
      details: {
        receiver: receiver.name,
        receiverType: receiver.type,
        attempts,
        alertSeq: alert.sequence,
        task: alert.task,
      },
    });
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
