import { readFileSync } from 'node:fs';

/** nice of one thread: field 19 of /proc/PID/task/TID/stat (counted after the "(name)" field). */
export function threadNice(pid: number, tid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[16]);
}
