import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { HaloError } from '../errors.js';
import { privateFileProblem, secretContentProblem } from '../util/private-file.js';

/** Reads a key or token file after checking it is private; the content is never logged. */
export function readPrivateFile(path: string, what: string): string {
  const problem = privateFileProblem(path, what);
  if (problem) throw new HaloError('HALO_E_SECRET', `refusing to start: ${problem}`, { file: path });
  const raw = readFileSync(path, 'utf8');
  const short = secretContentProblem(path, what, raw);
  if (short) throw new HaloError('HALO_E_SECRET', short, { file: path });
  return raw.trim();
}

/** The API token: from the configured file, else one generated once in the state dir. */
export function apiToken(configured: string | undefined, stateDir: string): { token: string; file: string } {
  if (configured) return { token: readPrivateFile(configured, 'API token'), file: configured };
  const file = `${stateDir}/api.token`;
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  }
  return { token: readPrivateFile(file, 'API token'), file };
}
