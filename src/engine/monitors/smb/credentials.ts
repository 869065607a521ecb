import { readFileSync } from 'node:fs';
import { privateFileProblem } from '../../../util/private-file.js';

/**
 * Why an SMB credentials file cannot be used, or undefined when it can. The file is the one
 * mount.cifs reads with `credentials=` and smbclient with `-A`: `key = value` lines, keys
 * `username`, `password` and optionally `domain` (spaces around `=` allowed). Like every
 * secret file of Halo it must not be readable by other users. Only the key names are looked
 * at here; the values stay in the file and are read by smbclient itself.
 */
export function credentialsProblem(path: string): string | undefined {
  const problem = privateFileProblem(path, 'SMB credentials');
  if (problem) return problem;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return `SMB credentials file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  const keys = new Set<string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) keys.add(line.slice(0, eq).trim().toLowerCase());
  }
  const missing = ['username', 'password'].filter((k) => !keys.has(k));
  if (missing.length > 0)
    return `SMB credentials file ${path} has no ${missing.map((k) => `${k}=`).join(' and no ')} line; expected lines username=NAME, password=SECRET and optionally domain=DOMAIN`;
  return undefined;
}
