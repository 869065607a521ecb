import type { KeepaliveConfig } from '../config/model.js';
import { keepaliveIdleSeconds } from '../net/keepalive.js';
import type { CheckResult } from './types.js';

/**
 * The OS's TCP keepalive defaults against `cluster.keepalive` (docs/keepalive.md: idle flows
 * through a cloud load balancer or firewall are dropped silently after a few minutes). Halo's own sockets set their idle time themselves; these sysctls are what every
 * other program gets when it turns SO_KEEPALIVE on without choosing values — typically the
 * protected application and its clients, whose idle sessions a middlebox drops. They are
 * per network namespace: a container or `ip netns` has its own.
 */

export const KEEPALIVE_SYSCTLS = {
  time: 'net.ipv4.tcp_keepalive_time',
  intvl: 'net.ipv4.tcp_keepalive_intvl',
  probes: 'net.ipv4.tcp_keepalive_probes',
} as const;

export type KeepaliveSysctls = Record<keyof typeof KEEPALIVE_SYSCTLS, number | undefined>;

export const sysctlPath = (name: string) => `/proc/sys/${name.replaceAll('.', '/')}`;

export function readKeepaliveSysctls(readFile: (path: string) => string | undefined): KeepaliveSysctls {
  const read = (name: string) => {
    const n = Number.parseInt(readFile(sysctlPath(name))?.trim() ?? '', 10);
    return Number.isFinite(n) ? n : undefined;
  };
  return {
    time: read(KEEPALIVE_SYSCTLS.time),
    intvl: read(KEEPALIVE_SYSCTLS.intvl),
    probes: read(KEEPALIVE_SYSCTLS.probes),
  };
}

/**
 * WARN when the first probe comes later than the configured idle time (the middlebox drops
 * the flow first), or when a dead peer is noticed later than the configured interval × count
 * allows. The fix sets every value that differs, and persists it.
 */
export function checkKeepaliveSysctls(actual: KeepaliveSysctls, cfg: KeepaliveConfig): CheckResult {
  const want = {
    time: keepaliveIdleSeconds(cfg.idleMs),
    intvl: Math.max(1, Math.floor(cfg.intervalMs / 1000)),
    probes: cfg.count,
  };
  const base = { id: 'keepalive-sysctl', title: 'TCP keepalive (OS defaults)' };
  const notes = [
    'These are defaults for sockets that enable SO_KEEPALIVE: the protected application (and its clients) must enable SO_KEEPALIVE on its sockets, or set TCP_KEEPIDLE itself.',
    'Values are per network namespace; containers have their own.',
  ];
  if (actual.time === undefined || actual.intvl === undefined || actual.probes === undefined) {
    return {
      ...base,
      status: 'warn',
      message: `cannot read ${Object.values(KEEPALIVE_SYSCTLS).join(', ')} from /proc/sys (not Linux?)`,
      fix: [`set the TCP keepalive idle time below the middlebox idle timeout: ${want.time} s`],
      notes,
    };
  }
  const shown = `${KEEPALIVE_SYSCTLS.time}=${actual.time}, intvl=${actual.intvl}, probes=${actual.probes}`;
  const lateFirstProbe = actual.time > want.time;
  const slowDetection = actual.intvl * actual.probes > want.intvl * want.probes;
  if (!lateFirstProbe && !slowDetection) {
    return {
      ...base,
      status: 'pass',
      message: `${shown}: first probe after ≤ ${want.time} s idle (cluster.keepalive.idle ${cfg.idleMs / 1000}s)`,
      notes,
    };
  }
  const lines: string[] = [];
  // A shorter idle than configured is fine: only a later first probe needs changing.
  if (lateFirstProbe) lines.push(`sysctl -w ${KEEPALIVE_SYSCTLS.time}=${want.time}`);
  for (const key of ['intvl', 'probes'] as const) {
    if (actual[key] !== want[key]) lines.push(`sysctl -w ${KEEPALIVE_SYSCTLS[key]}=${want[key]}`);
  }
  const persist = lines.map((l) => l.replace('sysctl -w ', '')).join('\\n');
  lines.push(`printf '${persist}\\n' > /etc/sysctl.d/90-halo-keepalive.conf   # keep it after a reboot`);
  const why = lateFirstProbe
    ? `idle TCP sessions send their first keepalive after ${actual.time} s, later than cluster.keepalive.idle ${want.time} s: a firewall or load balancer with a shorter idle timeout drops them silently`
    : `a dead peer is noticed after ${actual.intvl * actual.probes} s of probes, later than cluster.keepalive (${want.intvl} s × ${want.probes})`;
  return { ...base, status: 'warn', message: `${shown}: ${why}`, fix: lines, notes };
}
