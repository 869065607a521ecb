import { useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import type { Access } from '../types';
import { Logo } from './ui';

/**
 * The token form. The token is checked against `GET /v1/whoami` before it is kept, so a
 * wrong one is reported here rather than by a dashboard full of errors.
 */
export function Login(props: { onLogin: (token: string, access: Access) => void; notice: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) {
      setError('Enter the API token.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { access } = await api.whoami(value);
      props.onLogin(value, access);
    } catch (err) {
      const e = err instanceof ApiError ? err : null;
      if (e?.status === 401) setError('This token was not accepted. Check that you copied all of it.');
      else setError(`Could not sign in: ${e?.message ?? String(err)}`);
      setBusy(false);
    }
  };

  return (
    <main class="login-page">
      <form class="login-card" onSubmit={submit} aria-labelledby="login-title" noValidate>
        <div class="login-brand">
          <Logo />
          <span>Halo</span>
        </div>
        <h1 id="login-title">Sign in</h1>
        <p class="muted">
          Use the cluster's API token: the file named by <code>cluster.api.tokenFile</code>, or{' '}
          <code>api.token</code> in the agent's state directory. A read-only token shows the cluster without
          operations.
        </p>
        {props.notice && (
          <p class="notice" role="status">
            {props.notice}
          </p>
        )}
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'login-error' : undefined}
          // biome-ignore lint/a11y/noAutofocus: the form is the whole page; the token is the only input.
          autoFocus
        />
        {error && (
          <p id="login-error" class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
