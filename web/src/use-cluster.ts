import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from './api';
import type { HaloEvent, StatusView } from './types';

/**
 * Live state for the dashboard: the status document, polled every second and re-read at
 * once whenever an event arrives, and the agent's event stream (server-sent events).
 */

const POLL_MS = 1000;
const MAX_EVENTS = 300;

export interface StatusState {
  status: StatusView | null;
  error: ApiError | null;
  /** Wall time of the last successful read. */
  updatedAt: number | null;
  refresh: () => void;
}

export function useStatus(token: string, onUnauthorized: (err: ApiError) => void): StatusState {
  const [status, setStatus] = useState<StatusView | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const kick = useRef<() => void>(() => undefined);
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    let again = false;
    const poll = async () => {
      if (stopped) return;
      if (inFlight) {
        again = true;
        return;
      }
      clearTimeout(timer);
      inFlight = true;
      try {
        const next = await api.status(token);
        if (stopped) return;
        setStatus(next);
        setError(null);
        setUpdatedAt(Date.now());
      } catch (err) {
        if (stopped) return;
        const e = err instanceof ApiError ? err : new ApiError(0, 'HALO_E_INTERNAL', String(err));
        if (e.status === 401) unauthorized.current(e);
        setError(e);
      } finally {
        inFlight = false;
      }
      if (stopped) return;
      if (again) {
        again = false;
        void poll();
      } else timer = setTimeout(poll, POLL_MS);
    };
    kick.current = () => void poll();
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [token]);

  const refresh = useCallback(() => kick.current(), []);
  return { status, error, updatedAt, refresh };
}

export type StreamState = 'connecting' | 'live' | 'reconnecting';

export function useEvents(token: string, onEvent: (e: HaloEvent) => void) {
  const [events, setEvents] = useState<HaloEvent[]>([]);
  const [stream, setStream] = useState<StreamState>('connecting');
  const listener = useRef(onEvent);
  listener.current = onEvent;

  useEffect(() => {
    const seen = new Set<string>();
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let pending: HaloEvent[] = [];
    let flush: ReturnType<typeof setTimeout> | undefined;
    const onMessage = (msg: MessageEvent<string>) => {
      let event: HaloEvent;
      try {
        event = JSON.parse(msg.data) as HaloEvent;
      } catch {
        return;
      }
      // A reconnect replays the recent history: keep each event once.
      const id = `${event.node}#${event.seq}`;
      if (seen.has(id)) return;
      seen.add(id);
      pending.push(event);
      listener.current(event);
      // The history arrives as a burst: render it in one go rather than event by event.
      flush ??= setTimeout(() => {
        flush = undefined;
        const batch = pending;
        pending = [];
        setEvents((prev) => [...batch.reverse(), ...prev].slice(0, MAX_EVENTS));
      }, 50);
    };
    const connect = () => {
      source = new EventSource(api.eventsUrl(token));
      source.onopen = () => setStream('live');
      source.onmessage = onMessage;
      source.onerror = () => {
        setStream('reconnecting');
        // The browser retries by itself unless the stream was refused (e.g. an HTTP error).
        if (source?.readyState === EventSource.CLOSED) {
          source.close();
          retry = setTimeout(connect, 3000);
        }
      };
    };
    connect();
    return () => {
      clearTimeout(flush);
      clearTimeout(retry);
      source?.close();
    };
  }, [token]);

  return { events, stream };
}
