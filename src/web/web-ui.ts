import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { loadStaticFiles, type StaticFile } from './static-files.js';

/**
 * The web UI on every agent: `/` is the page, `/ui/…` its hashed assets (both public in the
 * API's auth hook — the page logs in by itself), and `GET /v1/whoami`, which tells the page
 * what the presented token may do so a read-only session shows no action buttons.
 * Registered through `buildApi({ extend })`.
 */

export interface WebUiOptions {
  /** Folder holding the Vite build (index.html, assets/). Default: `web/` in the build output. */
  dir?: string;
}

/**
 * `scripts/build-web.sh` writes the UI to `<outDir>/web`; this file compiles to
 * `<outDir>/src/web/web-ui.js`, so the UI sits two levels up in every build layout.
 */
export function defaultWebDir(): string {
  return fileURLToPath(new URL('../../web/', import.meta.url));
}

/**
 * Nothing is fetched from elsewhere: scripts, styles and API calls all come from this agent.
 * Preact sets styles through the CSSOM, which `style-src 'self'` allows.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Halo</title></head>
<body><h1>Halo web UI not built</h1><p>The agent runs, and its REST API is at <code>/v1/</code>.
Build the UI with <code>npm run build:web</code> (also part of <code>npm ci</code>) and restart the agent.</p></body></html>`;

export function registerWebUi(app: FastifyInstance, options: WebUiOptions = {}): void {
  const dir = options.dir ?? defaultWebDir();
  const files = existsSync(dir) ? loadStaticFiles(dir) : new Map<string, StaticFile>();
  const index = files.get('index.html');

  app.get('/v1/whoami', async (req) => ({
    access: req.access ?? 'read-only',
    ...(req.identity !== undefined ? { name: req.identity } : {}),
  }));

  app.get('/', async (req, reply) => {
    if (!index) return securityHeaders(reply).code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    return sendFile(req, reply, index);
  });
  app.get<{ Params: { '*': string } }>('/ui/*', async (req, reply) => {
    const file = files.get(req.params['*']);
    if (!file || req.params['*'] === 'index.html') {
      return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    }
    return sendFile(req, reply, file);
  });
  app.get('/favicon.ico', async (req, reply) => {
    const icon = files.get('favicon.svg');
    if (!icon) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return sendFile(req, reply, icon);
  });
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

function sendFile(req: FastifyRequest, reply: FastifyReply, file: StaticFile) {
  securityHeaders(reply)
    .header('etag', file.etag)
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.type(file.contentType).send(file.body);
}
