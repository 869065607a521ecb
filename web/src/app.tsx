import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, api, tokenStore } from './api';
import { Dashboard } from './components/dashboard';
import { Login } from './components/login';
import type { Access } from './types';

type Session =
  | { state: 'checking'; token: string }
  | { state: 'signed-out'; notice: string | null }
  | { state: 'signed-in'; token: string; access: Access };

/**
 * Signs in with a token kept in sessionStorage. A stored token is checked again on load:
 * the page learns its access (read-write or read-only) from the agent, never from itself.
 */
export function App() {
  const [session, setSession] = useState<Session>(() => {
    const token = tokenStore.get();
    return token ? { state: 'checking', token } : { state: 'signed-out', notice: null };
  });

  useEffect(() => {
    if (session.state !== 'checking') return;
    let cancelled = false;
    api.whoami(session.token).then(
      ({ access }) => !cancelled && setSession({ state: 'signed-in', token: session.token, access }),
      (err: unknown) => {
        if (cancelled) return;
        if (err instanceof ApiError && err.status === 401) tokenStore.clear();
        setSession({
          state: 'signed-out',
          notice:
            err instanceof ApiError && err.status === 401
              ? 'The saved token is no longer accepted. Sign in again.'
              : `Could not reach the agent: ${err instanceof Error ? err.message : String(err)}`,
        });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [session]);

  const login = useCallback((token: string, access: Access) => {
    tokenStore.set(token);
    setSession({ state: 'signed-in', token, access });
  }, []);
  const logout = useCallback((notice: string | null) => {
    tokenStore.clear();
    setSession({ state: 'signed-out', notice });
  }, []);

  if (session.state === 'checking') {
    return (
      <main class="loading" aria-busy="true">
        Checking your session…
      </main>
    );
  }
  if (session.state === 'signed-out') return <Login onLogin={login} notice={session.notice} />;
  return <Dashboard token={session.token} access={session.access} onLogout={logout} />;
}
