import { readFileSync, statSync } from 'node:fs';

/**
 * Why a key/token file cannot be used, or undefined when it is fine: it must exist, be a
 * regular file, and be unreadable by other users. Shared by the config loader and by every
 * component that reads a secret at run time (the etcd client among them).
 */
export function privateFileProblem(path: string, what: string): string | undefined {
  let mode: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) return `${what} file ${path} is not a regular file`;
    mode = st.mode & 0o777;
  } catch {
    return `${what} file ${path} does not exist; create it (e.g. \`openssl rand -hex 32 > ${path} && chmod 600 ${path}\`)`;
  }
  if ((mode & 0o077) !== 0) {
    return `${what} file ${path} has mode 0${mode.toString(8)} and other users can read it; run \`chmod 600 ${path}\``;
  }
  return undefined;
}

/** The shortest key or token the agent accepts (surrounding whitespace ignored). */
export const MIN_SECRET_LENGTH = 16;

/**
 * Why the content of a key/token file cannot be used (too short), or undefined. The agent
 * refuses to start on it, so `config validate` and `config push` check it too.
 */
export function secretContentProblem(path: string, what: string, text?: string): string | undefined {
  let content = text;
  if (content === undefined) {
    try {
      content = readFileSync(path, 'utf8');
    } catch (err) {
      return `${what} file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    }
  }
  if (content.trim().length < MIN_SECRET_LENGTH)
    return `${what} file ${path} is too short: use at least ${MIN_SECRET_LENGTH} characters (32 random bytes recommended, e.g. \`openssl rand -hex 32\`)`;
  return undefined;
}
