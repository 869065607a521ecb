import { readFile } from 'node:fs/promises';
import { privateFileProblem } from '../util/private-file.js';

/**
 * Reads a receiver's secret (webhook key, SMTP password) at send time: an unreadable file makes
 * that delivery fail with an `alert-failed` naming the file, and a fixed file is picked up
 * without a restart. The content is never logged nor put in an environment.
 */
export async function readSecret(path: string, what: string): Promise<string> {
  const problem = privateFileProblem(path, what);
  if (problem) throw new Error(problem);
  return (await readFile(path, 'utf8')).trim();
}
