import { isIPv6 } from 'node:net';
import type { Varbind } from 'net-snmp';
import type { AlertReceiverConfig } from '../../config/model.js';
import type { Alert } from '../alert.js';

type SnmpConfig = Extract<AlertReceiverConfig, { type: 'snmp' }>;

/**
 * OIDs of docs/HALO-MIB.txt. Halo has no IANA enterprise number: the MIB sits under
 * experimental (1.3.6.1.3) until it does; keep the two files in step.
 */
export const HALO_MIB = '1.3.6.1.3.7400';
export const TRAP_OIDS = {
  failover: `${HALO_MIB}.0.1`,
  resource: `${HALO_MIB}.0.2`,
  node: `${HALO_MIB}.0.3`,
  fencing: `${HALO_MIB}.0.4`,
  attribute: `${HALO_MIB}.0.5`,
} as const;
const obj = (n: number) => `${HALO_MIB}.1.${n}.0`;
export const VARBIND_OIDS = {
  kind: obj(1),
  node: obj(2),
  rsc: obj(3),
  task: obj(4),
  desc: obj(5),
  status: obj(6),
  rc: obj(7),
  targetRc: obj(8),
  severity: obj(9),
  group: obj(10),
  oldNode: obj(11),
  newNode: obj(12),
  cluster: obj(13),
  message: obj(14),
  timestamp: obj(15),
  reporter: obj(16),
} as const;

export function trapOid(alert: Alert): string {
  return alert.task === 'failover' ? TRAP_OIDS.failover : TRAP_OIDS[alert.kind];
}

export function trapVarbinds(alert: Alert, snmp: SnmpModule): Varbind[] {
  const str = (oid: string, value: string) => ({ oid, type: snmp.ObjectType.OctetString, value });
  const int = (oid: string, value: number) => ({ oid, type: snmp.ObjectType.Integer, value });
  const v = VARBIND_OIDS;
  return [
    str(v.kind, alert.kind),
    str(v.node, alert.node),
    str(v.rsc, alert.rsc),
    str(v.task, alert.task),
    str(v.desc, alert.desc),
    int(v.status, alert.status),
    int(v.rc, alert.rc),
    int(v.targetRc, alert.targetRc),
    str(v.severity, alert.severity),
    str(v.group, alert.group ?? ''),
    str(v.oldNode, alert.oldNode ?? ''),
    str(v.newNode, alert.newNode ?? ''),
    str(v.cluster, alert.cluster),
    str(v.message, alert.message.slice(0, 255)),
    str(v.timestamp, new Date(alert.at).toISOString()),
    str(v.reporter, alert.reporter),
  ];
}

/**
 * An SNMPv2c trap per alert. Traps are unacknowledged UDP: "sent" means the datagram left,
 * not that a manager got it (an unreachable port may still surface as an ICMP error).
 */
export function snmpSender(cfg: SnmpConfig) {
  return async (alert: Alert, signal: AbortSignal): Promise<void> => {
    // Loaded on the first trap: an agent without SNMP receivers does not carry the library.
    const snmp = (await import('net-snmp')).default;
    return new Promise((resolve, reject) => {
      const session = snmp.createSession(cfg.host, cfg.community, {
        version: snmp.Version2c,
        trapPort: cfg.port,
        transport: isIPv6(cfg.host) ? 'udp6' : 'udp4',
      });
      const done = (err: Error | null) => {
        signal.removeEventListener('abort', onAbort);
        try {
          session.close();
        } catch {
          // Already closed.
        }
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => done(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      session.on('error', done);
      session.trap(trapOid(alert), trapVarbinds(alert, snmp), done);
    });
  };
}

type SnmpModule = typeof import('net-snmp').default;
