import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import type { RunningCluster } from '../support/cluster.js';

/**
 * Shared by the API and CLI integration tests: response validation against the OpenAPI
 * document the agent serves, a Prometheus text parser, and a small server-sent events reader.
 */

const require = createRequire(import.meta.url);

export interface PromFamily {
  name: string;
  help: string;
  type: 'GAUGE' | 'COUNTER' | 'SUMMARY' | 'HISTOGRAM' | 'UNTYPED';
  metrics: Array<{ value?: string; labels?: Record<string, string> }>;
}

export const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => PromFamily[];

export type Validate = (path: string, method: string, status: number, body: unknown) => void;

/** Validates a JSON body against the schema the served /openapi.json gives that response. */
export async function openApiValidator(baseUrl: string): Promise<{ doc: any; validate: Validate }> {
  const res = await fetch(`${baseUrl}/openapi.json`);
  assert.equal(res.status, 200, '/openapi.json is public');
  const doc = (await res.json()) as any;
  const ajv = new Ajv({ strict: false, allErrors: true });
  const local = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('#/components/schemas/', ''));
  for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(local(schema), name);
  const validate: Validate = (path, method, status, body) => {
    const op = doc.paths[path]?.[method.toLowerCase()];
    assert.ok(op, `the OpenAPI document has ${method} ${path}`);
    const response = op.responses[String(status)];
    assert.ok(response, `the OpenAPI document lists status ${status} for ${method} ${path}`);
    const content = response.content?.['application/json'] ?? response.content?.['text/event-stream'];
    assert.ok(content?.schema, `${method} ${path} ${status} has a JSON schema`);
    const check = ajv.compile(local(content.schema));
    assert.ok(
      check(body),
      `${method} ${path} ${status} does not match the OpenAPI schema: ${ajv.errorsText(check.errors)}\n${JSON.stringify(body).slice(0, 2000)}`,
    );
  };
  return { doc, validate };
}

export interface SseReader {
  events: any[];
  waitFor(pred: (e: any) => boolean, what: string, timeoutMs?: number): Promise<any>;
  close(): void;
}

/** Reads /v1/events (or any SSE URL) in the background until close(). */
export async function readSse(url: string, token: string): Promise<SseReader> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), accept: 'text/event-stream' },
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events: any[] = [];
  const pump = (async () => {
    let buffer = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data) events.push(JSON.parse(data));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // Aborted by close().
    }
  })();
  return {
    events,
    async waitFor(pred, what, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`timed out waiting for event: ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close() {
      controller.abort();
      void pump;
    },
  };
}

/** Waits until both nodes agree on web's owner, then moves it to n1 if it is not there. */
export async function settleOnN1(c: RunningCluster): Promise<void> {
  const ownerOf = async (node: string) =>
    (await c.status(node)).groups.find((g: { name: string }) => g.name === 'web')?.owner ?? null;
  await c.waitFor('n2 out of quarantine', async () => !(await c.status('n2')).quarantined);
  const owner = await c.waitFor('both nodes agree on the owner of web', async () => {
    const [a, b] = [await ownerOf('n1'), await ownerOf('n2')];
    return a !== null && a === b ? a : false;
  });
  if (owner !== 'n1') await c.api('n1', 'POST', '/v1/groups/web/move', { to: 'n1' });
  await c.waitFor('web running on n1', () => existsSync(join(c.dir, 'marker.n1')));
  await c.waitFor('n2 sees n1 as the owner', async () => (await ownerOf('n2')) === 'n1');
}
