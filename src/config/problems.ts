import { HaloError } from '../errors.js';

/** One thing wrong with a config file, pinned to the path inside it. */
export interface ConfigProblem {
  /** Path inside the document, e.g. ['groups', 'failover', 'resources', 'awsvip', 'routeTables', 1]. */
  path: Array<string | number>;
  message: string;
  line?: number;
  column?: number;
}

/** `groups.failover.resources.awsvip.routeTables[1]` */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out || '(top level)';
}

export function formatProblem(file: string, problem: ConfigProblem): string {
  const where = problem.line !== undefined ? `${file}:${problem.line}:${problem.column ?? 1}` : file;
  return `${where}: ${formatPath(problem.path)}: ${problem.message}`;
}

export function configInvalid(file: string, problems: ConfigProblem[]): HaloError {
  const lines = problems.map((p) => formatProblem(file, p));
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return new HaloError(
    'HALO_E_CONFIG_INVALID',
    `${file}: ${problems.length} ${noun}:\n  ${lines.join('\n  ')}`,
    {
      file,
      problems: problems.map((p) => ({
        path: formatPath(p.path),
        message: p.message,
        line: p.line,
        column: p.column,
      })),
    },
  );
}
