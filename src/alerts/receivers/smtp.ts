import { readFile } from 'node:fs/promises';
import type { AlertReceiverConfig } from '../../config/model.js';
import type { Alert } from '../alert.js';
import { readSecret } from '../secret-file.js';

type SmtpConfig = Extract<AlertReceiverConfig, { type: 'smtp' }>;

export function mailSubject(alert: Alert): string {
  const what =
    alert.task === 'failover'
      ? `${alert.group ?? alert.rsc} failed over from ${alert.oldNode} to ${alert.newNode}`
      : `${alert.kind} ${alert.task}${alert.rsc ? ` ${alert.rsc}` : ''} on ${alert.node}: ${alert.desc}`;
  return `[halo ${alert.cluster}] ${alert.severity}: ${what}`;
}

export function mailText(alert: Alert): string {
  const lines: Array<[string, string | number | undefined]> = [
    ['Cluster', alert.cluster],
    ['Kind', alert.kind],
    ['Severity', alert.severity],
    ['Task', alert.task],
    ['Node', alert.node],
    ['Resource', alert.rsc],
    ['Group', alert.group],
    ['Old node', alert.oldNode],
    ['New node', alert.newNode],
    ['Description', alert.desc],
    ['Result code', alert.rc],
    ['Time', new Date(alert.at).toISOString()],
    ['Reported by', `${alert.reporter} (event ${alert.sequence})`],
  ];
  return `${alert.message}\n\n${lines
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n')}\n`;
}

/** One mail per alert through nodemailer; the password is read from its file at send time. */
export function smtpSender(cfg: SmtpConfig) {
  return async (alert: Alert, signal: AbortSignal): Promise<void> => {
    const pass = cfg.passwordFile ? await readSecret(cfg.passwordFile, 'SMTP password') : undefined;
    const ca = cfg.ca ? await readFile(cfg.ca, 'utf8') : undefined;
    // Loaded on the first mail: an agent without mail receivers does not carry the library.
    const nodemailer = (await import('nodemailer')).default;
    const transport = nodemailer.createTransport({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      ...(cfg.user !== undefined ? { auth: { user: cfg.user, pass: pass ?? '' } } : {}),
      ...(ca !== undefined ? { tls: { ca } } : {}),
      connectionTimeout: cfg.timeoutMs,
      greetingTimeout: cfg.timeoutMs,
      socketTimeout: cfg.timeoutMs,
    });
    const onAbort = () => transport.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await transport.sendMail({
        from: cfg.from,
        to: cfg.to,
        subject: mailSubject(alert),
        text: mailText(alert),
        headers: { 'X-Halo-Alert-Kind': alert.kind, 'X-Halo-Alert-Task': alert.task },
      });
    } finally {
      signal.removeEventListener('abort', onAbort);
      transport.close();
    }
  };
}
