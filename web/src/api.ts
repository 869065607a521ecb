import type { Access, StatusView } from './types';

/**
 * Calls to the agent that served the page. Every failure becomes an `ApiError` carrying the
 * agent's stable `HALO_E_…` code and message, so the page can show exactly why an operation
 * was refused.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'halo.token';

/** sessionStorage: the token is gone when the tab closes, and never shared between tabs. */
export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

async function call<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'HALO_E_UNREACHABLE', 'the agent did not answer; is it running?');
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `HTTP ${res.status}`);
  }
  return parsed as T;
}

export const api = {
  whoami: (token: string) => call<{ access: Access }>(token, 'GET', '/v1/whoami'),
  status: (token: string) => call<StatusView>(token, 'GET', '/v1/status'),
  move: (token: string, group: string, to?: string) =>
    call<{ message?: string }>(token, 'POST', `/v1/groups/${enc(group)}/move`, to ? { to } : {}),
  start: (token: string, group: string) =>
    call<{ message?: string }>(token, 'POST', `/v1/groups/${enc(group)}/start`, {}),
  stop: (token: string, group: string) =>
    call<{ message?: string }>(token, 'POST', `/v1/groups/${enc(group)}/stop`, {}),
  suspendMonitor: (token: string, key: string) =>
    call<{ message?: string }>(token, 'POST', `/v1/monitors/${enc(key)}/suspend`, {}),
  resumeMonitor: (token: string, key: string) =>
    call<{ message?: string }>(token, 'POST', `/v1/monitors/${enc(key)}/resume`, {}),
  eventsUrl: (token: string) => `/v1/events?history=200&token=${enc(token)}`,
};

function enc(s: string): string {
  return encodeURIComponent(s);
}
