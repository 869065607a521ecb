import type { CheckResult, ExecFn } from './types.js';

/**
 * Wall-clock synchronisation. Leases run on monotonic clocks, so a wrong wall clock never
 * breaks safety here; it does make event timestamps and the cross-node failover timeline
 * (status joins each node's half of the last failover) wrong, and the agents' drift check compares clock rates. Hence WARN, not
 * FAIL. Asks systemd (timedatectl) first, then chrony; says so when neither can tell.
 */
export async function checkClockSync(exec: ExecFn): Promise<CheckResult> {
  const base = { id: 'clock-sync', title: 'Clock synchronisation' };
  const fix = [
    'apt-get install chrony && systemctl enable --now chrony   # or any NTP client',
    'chronyc tracking   # "Leap status : Normal" once synchronised',
  ];
  const td = await exec('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
  const tdValue = td.code === 0 ? td.stdout.trim() : '';
  if (tdValue === 'yes') return { ...base, status: 'pass', message: 'timedatectl: NTPSynchronized=yes' };
  const chrony = await exec('chronyc', ['-n', 'tracking']);
  if (chrony.code === 0) {
    const leap = /^Leap status\s*:\s*(.+)$/m.exec(chrony.stdout)?.[1]?.trim();
    if (leap === 'Normal')
      return { ...base, status: 'pass', message: 'chronyc tracking: Leap status Normal' };
    return {
      ...base,
      status: 'warn',
      message: `chronyc tracking: Leap status ${leap ?? 'unknown'} — the clock is not synchronised`,
      fix,
    };
  }
  if (tdValue === 'no') {
    return { ...base, status: 'warn', message: 'timedatectl: NTPSynchronized=no', fix };
  }
  return {
    ...base,
    status: 'warn',
    message: 'cannot tell whether the clock is synchronised (no systemd timedatectl answer, no chronyc)',
    fix,
    notes: [
      'Leases use monotonic clocks, so this does not affect safety; event times and failover timelines across nodes need synchronised clocks.',
    ],
  };
}
