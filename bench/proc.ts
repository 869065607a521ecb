import { readFileSync } from 'node:fs';

/** Readings of /proc for the benchmarks (Linux only). */

/** Parent pid and CPU time (utime + stime, in USER_HZ ticks) of a process, or null if it is gone. */
export function procStat(pid: number): { ppid: number; ticks: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

/** Resident set size in MB (0 once the process is gone). */
export function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/**
 * Proportional and private memory in MB from /proc/PID/smaps_rollup: PSS charges each shared
 * page (the node binary's text, shared by every node process on the machine) to its sharers in
 * equal parts; private is what the process alone holds (what killing it would free).
 */
export function memoryMb(pid: number): { pss: number; private: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { pss: kb('Pss') / 1024, private: (kb('Private_Clean') + kb('Private_Dirty')) / 1024 };
  } catch {
    return { pss: 0, private: 0 };
  }
}
