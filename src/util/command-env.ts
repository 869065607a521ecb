import { userInfo } from 'node:os';

/** The PATH every command run by a resource or monitor gets. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Locale and time zone: passed on from the agent when set (they carry no secrets). */
const PASSED_ON = ['LANG', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'TZ'];

/**
 * The environment every resource and monitor command starts from: not the agent's, which may
 * hold cloud credentials (AWS_*), tokens or proxies meant for the agent alone. Only a fixed
 * PATH, the locale and time zone, HOME/USER/LOGNAME of the user it runs as, and the variables
 * the agent's operator names in HALO_PASS_ENV (comma- or space-separated: e.g. `http_proxy`).
 * The caller adds the HALO_* identity variables and the resource's own `env:`.
 */
export function baseEnv(agentEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { PATH: DEFAULT_PATH, LANG: 'C.UTF-8' };
  const passOn = [...PASSED_ON, ...(agentEnv['HALO_PASS_ENV'] ?? '').split(/[\s,]+/).filter(Boolean)];
  for (const key of passOn) {
    const value = agentEnv[key];
    if (value !== undefined && !key.startsWith('HALO_')) env[key] = value;
  }
  const me = currentUser();
  if (me) Object.assign(env, { HOME: me.homedir, USER: me.username, LOGNAME: me.username });
  return env;
}

function currentUser(): { homedir: string; username: string } | undefined {
  try {
    return userInfo();
  } catch {
    return undefined;
  }
}
