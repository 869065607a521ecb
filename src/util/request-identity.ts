import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who asked: the name of the API token of the request being handled. The API server runs each
 * authenticated request's handler inside `withIdentity`, so whatever that handler records on the
 * way (an intent write's event, a parameter change, a config reload) can name it without every
 * engine method taking an extra argument.
 */
const storage = new AsyncLocalStorage<string>();

export function withIdentity<T>(name: string, fn: () => T): T {
  return storage.run(name, fn);
}

/** The identity of the request this code runs for, if any. */
export function currentIdentity(): string | undefined {
  return storage.getStore();
}
