import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LabError } from './exec.js';

/** One probe result: monotonic ms when it ended, and who answered ('' = the probe failed). */
export type ProbeRecord = [number, string];

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * The test process's handle on `ns-main.js client` running in the client namespace: every
 * request to an agent's API, and the VIP prober, go through it (JSON lines over its stdio).
 */
export class LabClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    let markReady: () => void = () => {};
    this.ready = new Promise((resolve) => {
      markReady = resolve;
    });
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      let msg: { id: number; ok: boolean; result?: unknown; error?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.id === 0) return markReady();
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new LabError(msg.error ?? 'client request failed'));
    });
    child.once('exit', () => {
      for (const p of this.pending.values()) p.reject(new LabError('lab client exited'));
      this.pending.clear();
    });
  }

  request<T>(op: string, args: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new LabError(`lab client: ${op} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  http(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
    return this.request<HttpAnswer>('http', { url, ...init });
  }

  startProbe(host: string, port: number, intervalMs = 10, timeoutMs = 100): Promise<void> {
    return this.request('probe-start', { host, port, intervalMs, timeoutMs });
  }

  probeRecords(since = 0): Promise<ProbeRecord[]> {
    return this.request('probe-records', { since });
  }

  stopProbe(): Promise<ProbeRecord[]> {
    return this.request('probe-stop');
  }
}
