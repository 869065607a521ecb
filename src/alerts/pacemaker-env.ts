import type { Alert } from './alert.js';

/**
 * The environment of a Pacemaker alert agent (Pacemaker Explained, "Alert Agents": the
 * CRM_alert_* variables), so Pacemaker's sample agents (/usr/share/pacemaker/alerts/) run
 * unchanged, plus HALO_ALERT_* with what Pacemaker has no name for.
 */

/** Which Pacemaker alert interface this imitates (the samples only check it is set). */
export const CRM_ALERT_VERSION = '2.1.5';

export function alertEnv(alert: Alert, recipient: string, timestampFormat: string): Record<string, string> {
  return {
    CRM_alert_version: CRM_ALERT_VERSION,
    CRM_alert_recipient: recipient,
    CRM_alert_node_sequence: String(alert.sequence),
    CRM_alert_timestamp: formatTimestamp(new Date(alert.at), timestampFormat),
    CRM_alert_timestamp_epoch: String(Math.floor(alert.at / 1000)),
    CRM_alert_timestamp_usec: String((alert.at % 1000) * 1000),
    CRM_alert_kind: alert.kind,
    CRM_alert_node: alert.node,
    CRM_alert_rsc: alert.rsc,
    CRM_alert_task: alert.task,
    CRM_alert_desc: alert.desc,
    CRM_alert_status: String(alert.status),
    CRM_alert_rc: String(alert.rc),
    CRM_alert_target_rc: String(alert.targetRc),
    // The samples test `[ ${CRM_alert_interval} = "0" ]`: unset would be a shell syntax error.
    CRM_alert_interval: '0',
    CRM_alert_attribute_name: '',
    CRM_alert_attribute_value: '',
    HALO_ALERT_CLUSTER: alert.cluster,
    HALO_ALERT_REPORTER: alert.reporter,
    HALO_ALERT_SEVERITY: alert.severity,
    HALO_ALERT_GROUP: alert.group ?? '',
    HALO_ALERT_OLD_NODE: alert.oldNode ?? '',
    HALO_ALERT_NEW_NODE: alert.newNode ?? '',
    HALO_ALERT_MESSAGE: alert.message,
    HALO_ALERT_TIME: new Date(alert.at).toISOString(),
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * strftime in local time, with the conversions Pacemaker's timestamp-format documents:
 * %Y %m %d %H %M %S %y %b %e %j %z %Z %s %%, and %N (nanoseconds, 9 digits) with an optional
 * digit count (%3N milliseconds, %6N or %06N microseconds).
 */
export function formatTimestamp(date: Date, format: string): string {
  const ms = date.getMilliseconds();
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return format.replace(/%(0?\d)?([A-Za-z%])/g, (whole, digits: string | undefined, c: string) => {
    if (c === 'N') {
      const nanos = String(ms * 1_000_000).padStart(9, '0');
      const n = digits === undefined ? 9 : Math.min(9, Math.max(1, Number(digits)));
      return nanos.slice(0, n);
    }
    if (digits !== undefined) return whole;
    switch (c) {
      case 'Y':
        return String(date.getFullYear());
      case 'y':
        return pad(date.getFullYear() % 100);
      case 'm':
        return pad(date.getMonth() + 1);
      case 'b':
        return months[date.getMonth()] ?? '';
      case 'd':
        return pad(date.getDate());
      case 'e':
        return String(date.getDate()).padStart(2, ' ');
      case 'j': {
        const start = new Date(date.getFullYear(), 0, 1);
        return pad(Math.floor((date.getTime() - start.getTime()) / 86_400_000) + 1, 3);
      }
      case 'H':
        return pad(date.getHours());
      case 'M':
        return pad(date.getMinutes());
      case 'S':
        return pad(date.getSeconds());
      case 's':
        return String(Math.floor(date.getTime() / 1000));
      case 'z': {
        const off = -date.getTimezoneOffset();
        return `${off >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`;
      }
      case 'Z':
        return (
          Intl.DateTimeFormat('en', { timeZoneName: 'short' })
            .formatToParts(date)
            .find((p) => p.type === 'timeZoneName')?.value ?? ''
        );
      case '%':
        return '%';
      default:
        return whole;
    }
  });
}
