import type { MonitorContext, MonitorInstance, MonitorPlugin, MonitorResult } from '../types.js';
import { type HttpReply, insecureGet } from './insecure-get.js';
import { type HttpMonitorParams, httpMonitorParams } from './params.js';

/** Enough body for `contains` on a health page; bigger bodies are cut, not buffered whole. */
const MAX_BODY = 1024 * 1024;
const SNIPPET = 200;

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > SNIPPET ? `${flat.slice(0, SNIPPET)}…` : flat;
}

/** fetch wraps network errors as "fetch failed"; the cause says what was seen. */
function describeError(err: unknown): string {
  const error = err as Error & { cause?: unknown; code?: string };
  const cause = error.cause as (Error & { code?: string; errors?: Error[] }) | undefined;
  const inner = cause?.errors?.[0];
  return inner?.message || cause?.message || cause?.code || error.message || error.code || String(err);
}

async function readLimited(response: Response, maxBody: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= maxBody) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, maxBody);
}

class HttpMonitor implements MonitorInstance {
  constructor(private readonly params: HttpMonitorParams) {}

  private async get(signal: AbortSignal, readBody: boolean): Promise<HttpReply> {
    const { url, insecure } = this.params;
    if (insecure && url.startsWith('https:')) return insecureGet(url, signal, readBody, MAX_BODY);
    // Redirects are not followed (like HAProxy's checks): a 302 to a login page is not "healthy".
    const response = await fetch(url, {
      signal,
      redirect: 'manual',
      headers: { 'user-agent': 'halo-monitor' },
    });
    const body = readBody ? await readLimited(response, MAX_BODY) : '';
    if (!readBody) await response.body?.cancel();
    return { status: response.status, statusText: response.statusText, body };
  }

  async probe(ctx: MonitorContext): Promise<MonitorResult> {
    const { expectStatus, contains } = this.params;
    const started = Date.now();
    let reply: HttpReply;
    try {
      // The body is also read on a bad status: it usually says why.
      reply = await this.get(ctx.signal, true);
    } catch (err) {
      if (ctx.signal.aborted) {
        const reason =
          ctx.signal.reason instanceof Error ? ctx.signal.reason.message : String(ctx.signal.reason);
        return { ok: false, output: `no response after ${Date.now() - started} ms (${reason})` };
      }
      return { ok: false, output: describeError(err) };
    }
    const ms = Date.now() - started;
    const line = `HTTP ${reply.status}${reply.statusText ? ` ${reply.statusText}` : ''} in ${ms} ms`;
    if (!expectStatus.includes(reply.status)) {
      const body = snippet(reply.body);
      return {
        ok: false,
        output: `${line}, expected ${expectStatus.join(' or ')}${body ? `: ${body}` : ''}`,
      };
    }
    if (contains !== undefined) {
      if (!reply.body.includes(contains)) {
        return {
          ok: false,
          output: `${line}, body does not contain ${JSON.stringify(contains)}: ${snippet(reply.body)}`,
        };
      }
      return { ok: true, output: `${line}, body contains ${JSON.stringify(contains)}` };
    }
    return { ok: true, output: line };
  }
}

export const httpMonitor: MonitorPlugin<HttpMonitorParams> = {
  type: 'http',
  description:
    'Healthy when a GET of url answers with a status in expectStatus (redirects not followed) and, optionally, a body containing the given text.',
  params: httpMonitorParams,
  target: 'optional',
  create: (_name, params) => new HttpMonitor(params),
};
