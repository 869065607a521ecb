/**
 * The exit codes of the OCF resource agent API (ClusterLabs resource-agents, ocf-returncodes;
 * OCF Resource Agent API 1.1 §"Exit codes") and what Pacemaker makes of a failure: a *soft*
 * error may be retried on the same node (restart), a *hard* one means the resource cannot run
 * on this node at all, so Pacemaker bans it here and does not retry (OCF_ERR_CONFIGURED is
 * even "fatal": banned everywhere).
 */

export const OCF_SUCCESS = 0;
export const OCF_ERR_GENERIC = 1;
export const OCF_ERR_ARGS = 2;
export const OCF_ERR_UNIMPLEMENTED = 3;
export const OCF_ERR_PERM = 4;
export const OCF_ERR_INSTALLED = 5;
export const OCF_ERR_CONFIGURED = 6;
export const OCF_NOT_RUNNING = 7;
export const OCF_RUNNING_PROMOTED = 8;
export const OCF_FAILED_PROMOTED = 9;

const NAMES: Record<number, string> = {
  0: 'OCF_SUCCESS',
  1: 'OCF_ERR_GENERIC',
  2: 'OCF_ERR_ARGS',
  3: 'OCF_ERR_UNIMPLEMENTED',
  4: 'OCF_ERR_PERM',
  5: 'OCF_ERR_INSTALLED',
  6: 'OCF_ERR_CONFIGURED',
  7: 'OCF_NOT_RUNNING',
  8: 'OCF_RUNNING_PROMOTED',
  9: 'OCF_FAILED_PROMOTED',
};

const MEANINGS: Record<number, string> = {
  1: 'generic error',
  2: 'invalid or unsupported arguments',
  3: 'action not implemented by the agent',
  4: 'insufficient privileges',
  5: 'a program or file the agent needs is not installed on this node',
  6: 'the resource is configured wrong',
  7: 'not running',
  9: 'failed in promoted role',
};

/** Failures that retrying on this node cannot fix (Pacemaker: hard and fatal errors). */
const HARD = new Set([
  OCF_ERR_ARGS,
  OCF_ERR_UNIMPLEMENTED,
  OCF_ERR_PERM,
  OCF_ERR_INSTALLED,
  OCF_ERR_CONFIGURED,
]);

export function isHardError(code: number): boolean {
  return HARD.has(code);
}

/** "5 (OCF_ERR_INSTALLED: a program or file … not installed on this node)". */
export function describeOcfCode(code: number): string {
  const name = NAMES[code];
  if (!name) return String(code);
  const meaning = MEANINGS[code];
  return meaning ? `${code} (${name}: ${meaning})` : `${code} (${name})`;
}

/**
 * The agent's own explanation: ocf-shellfuncs' `ocf_exit_reason` writes lines starting with
 * `ocf-exit-reason:` to stderr (the prefix Pacemaker's executor looks for). The last one wins.
 */
export function exitReason(output: string): string | undefined {
  let reason: string | undefined;
  for (const line of output.split('\n')) {
    const at = line.indexOf('ocf-exit-reason:');
    if (at >= 0) reason = line.slice(at + 'ocf-exit-reason:'.length).trim();
  }
  return reason || undefined;
}
