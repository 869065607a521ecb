import { statSync } from 'node:fs';

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
