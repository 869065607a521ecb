import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { HaloError } from '../../errors.js';

const execFileAsync = promisify(execFile);

export interface UserIds {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function parsePasswdLine(line: string): UserIds | undefined {
  const [name, , uid, gid, , home] = line.split(':');
  if (!name || uid === undefined || gid === undefined) return undefined;
  const ids = { name, uid: Number(uid), gid: Number(gid), home: home || '/' };
  return Number.isInteger(ids.uid) && Number.isInteger(ids.gid) ? ids : undefined;
}

async function fromPasswdFile(user: string): Promise<UserIds | undefined> {
  let text: string;
  try {
    text = await readFile('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  const numeric = /^\d+$/.test(user) ? Number(user) : undefined;
  for (const line of text.split('\n')) {
    const ids = parsePasswdLine(line);
    if (ids && (ids.name === user || ids.uid === numeric)) return ids;
  }
  return undefined;
}

/** Users from NSS (LDAP, sssd) are not in /etc/passwd; getent asks the same sources as login. */
async function fromGetent(user: string): Promise<UserIds | undefined> {
  try {
    const { stdout } = await execFileAsync('getent', ['passwd', user], { timeout: 5000 });
    return parsePasswdLine(stdout.trim().split('\n')[0] ?? '');
  } catch {
    return undefined;
  }
}

/** Resolves a user name (or numeric uid) to its ids and home directory. */
export async function resolveUser(user: string): Promise<UserIds> {
  const ids = (await fromPasswdFile(user)) ?? (await fromGetent(user));
  if (!ids) {
    throw new HaloError(
      'HALO_E_CONFIG_INVALID',
      `user "${user}" does not exist on this node; create it or change the "user" parameter`,
      { user },
    );
  }
  return ids;
}

/**
 * Checks that this process may switch to `ids`: only root may run commands as another user.
 * Returns whether a switch is needed at all.
 */
export function assertCanRunAs(ids: UserIds): boolean {
  const current = process.getuid?.();
  if (current === undefined || current === ids.uid) return false;
  if (current !== 0) {
    throw new HaloError(
      'HALO_E_PERMISSION',
      `running commands as user "${ids.name}" needs root; run the agent as root or remove the "user" parameter`,
      { user: ids.name, uid: current },
    );
  }
  return true;
}
