import { statSync } from 'node:fs';
import {
  describeStateDir,
  looseStateDirProblem,
  probeStateDir,
  type StateDirHealth,
} from '../agent/state-dir.js';
import type { CheckResult } from './types.js';

/**
 * The agent's state directory must take writes: the replicated intent is stored there before
 * this node proposes or acknowledges a change, so a full or read-only directory makes the node
 * refuse `halo stop`/`move`/`start` (HALO_E_STATE_WRITE_FAILED). FAIL when it cannot be
 * written, WARN when little space is left or it does not exist yet.
 */
export async function checkStateDir(dir: string, probe = probeStateDir): Promise<CheckResult> {
  const result = stateDirResult(await probe(dir));
  if (result.status !== 'pass') return result;
  let mode: number;
  try {
    mode = statSync(dir).mode & 0o777;
  } catch {
    return result;
  }
  // The agent creates it 0700 but leaves an existing directory's mode alone: say so here.
  const loose = looseStateDirProblem(dir, mode);
  return loose ? { ...result, status: 'warn', message: loose, fix: [`chmod 700 ${dir}`] } : result;
}

/** Pure: the doctor finding for one probe result. */
export function stateDirResult(h: StateDirHealth): CheckResult {
  const base = { id: 'state-dir', title: 'State directory' };
  const message = describeStateDir(h);
  if (h.level === 'ok') return { ...base, status: 'pass', message };
  if (h.error === 'ENOENT')
    return {
      ...base,
      status: 'warn',
      message: `${h.dir} does not exist yet (the agent creates it at start)`,
      fix: [`mkdir -p ${h.dir} && chmod 700 ${h.dir}`],
    };
  const spaceFix = [
    `df -h ${h.dir}   # what fills the file system`,
    `du -xsh ${h.dir}/* | sort -h | tail   # the largest files in the state dir`,
    'free space on that file system, or give the state dir its own (pass --state-dir DIR to the agent)',
  ];
  if (h.level === 'low') return { ...base, status: 'warn', message, fix: spaceFix };
  if (h.level === 'full') return { ...base, status: 'fail', message, fix: spaceFix };
  return {
    ...base,
    status: 'fail',
    message,
    fix: [
      `touch ${h.dir}/probe && rm ${h.dir}/probe   # shows the error`,
      'EROFS: the file system went read-only (check dmesg for I/O errors) or is mounted ro; EACCES: run the agent as the owner of the directory',
    ],
  };
}
