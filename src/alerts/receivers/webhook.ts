import { createHmac } from 'node:crypto';
import type { AlertReceiverConfig } from '../../config/model.js';
import type { Alert } from '../alert.js';
import { readSecret } from '../secret-file.js';

type WebhookConfig = Extract<AlertReceiverConfig, { type: 'webhook' }>;

export const SIGNATURE_HEADER = 'x-halo-signature';

/** A failure that a retry cannot fix (a 4xx answer other than 408/429). */
export class PermanentDeliveryError extends Error {
  readonly retryable = false;
}

/** The JSON body a webhook receives (also documented in docs/alerts.md). */
export function alertJson(alert: Alert): Record<string, unknown> {
  return {
    version: 1,
    cluster: alert.cluster,
    kind: alert.kind,
    severity: alert.severity,
    task: alert.task,
    node: alert.node,
    rsc: alert.rsc,
    desc: alert.desc,
    status: alert.status,
    rc: alert.rc,
    targetRc: alert.targetRc,
    timestamp: new Date(alert.at).toISOString(),
    sequence: alert.sequence,
    reporter: alert.reporter,
    group: alert.group ?? null,
    oldNode: alert.oldNode ?? null,
    newNode: alert.newNode ?? null,
    message: alert.message,
  };
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`, the convention of GitHub's X-Hub-Signature-256. */
export function signature(key: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
}

/**
 * The URL as it may appear in events and logs: many webhook services put their token in the
 * path or query (or user:password in the authority), so only scheme, host and port are shown.
 */
export function shownUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '(webhook URL)';
  }
}

export function webhookSender(cfg: WebhookConfig) {
  return async (alert: Alert, signal: AbortSignal): Promise<void> => {
    const body = JSON.stringify(alertJson(alert));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'halo-alerts',
    };
    if (cfg.secretFile)
      headers[SIGNATURE_HEADER] = signature(await readSecret(cfg.secretFile, 'webhook secret'), body);
    const res = await fetch(cfg.url, { method: 'POST', headers, body, signal });
    const text = await res.text().catch(() => '');
    if (res.ok) return;
    const why = `${shownUrl(cfg.url)} answered ${res.status}${text.trim() ? `: ${text.trim().slice(0, 200)}` : ''}`;
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw new Error(why);
    throw new PermanentDeliveryError(why);
  };
}
