import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { HaloError, isHaloError } from '../errors.js';
import type { Logger } from '../log.js';
import { withIdentity } from '../util/request-identity.js';
import { type Access, bearer, type TokenAuth } from './auth.js';
import { DEFAULT_BODY_LIMIT } from './body-limits.js';
import { openApiDocument, schemas } from './openapi.js';
import type { ClusterOps, StandbyResult } from './ops.js';

export interface ApiOptions {
  ops: ClusterOps;
  auth: TokenAuth;
  log: Logger;
  version: string;
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** Extra routes (the web UI) registered on the same server. */
  extend?: (app: FastifyInstance) => void;
}

declare module 'fastify' {
  interface FastifyRequest {
    access?: Access;
    /** The name of the token (`cluster.api.tokens`, or admin / read-only / peer). */
    identity?: string;
  }
}

const REQUEST_SCHEMAS = [
  'MoveBody',
  'StartBody',
  'CleanupBody',
  'Empty',
  'ParamsPatch',
  'MaintenanceBody',
] as const;

/** Paths anyone may read: the API description and the web UI's static files (it logs in itself). */
const PUBLIC = [/^\/openapi\.json$/, /^\/$/, /^\/ui\//, /^\/favicon\.ico$/];

export function buildApi(options: ApiOptions): FastifyInstance {
  const { ops, auth, log } = options;
  const app = Fastify({
    logger: false,
    bodyLimit: DEFAULT_BODY_LIMIT,
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  }) as unknown as FastifyInstance;
  // Only request bodies are validated by fastify; responses are checked by the tests.
  for (const id of REQUEST_SCHEMAS) app.addSchema({ $id: id, ...schemas[id] });

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (PUBLIC.some((re) => re.test(path))) return;
    const who = auth.identify(bearer(req.headers.authorization) ?? queryToken(req));
    const access = who?.access;
    if (!who || !access)
      return sendError(
        reply,
        new HaloError(
          'HALO_E_UNAUTHORIZED',
          'a valid API token is required: send "Authorization: Bearer TOKEN"',
        ),
      );
    if (access === 'peer' && !(req.method === 'GET' && path === '/v1/timelines')) {
      return sendError(
        reply,
        new HaloError('HALO_E_FORBIDDEN', 'the peer token may only read /v1/timelines'),
      );
    }
    if (access === 'read-only' && req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(
        reply,
        new HaloError('HALO_E_FORBIDDEN', 'this token is read-only; use the read-write token for operations'),
      );
    }
    req.access = access;
    req.identity = who.name;
  });
  // Everything the handler records on the way names the token that asked (request-identity.ts).
  app.addHook('preHandler', (req, _reply, done) => {
    if (req.identity === undefined) return done();
    withIdentity(req.identity, () => done());
  });

  // `halo stop web` and curl without -d send no body at all: treat that as an empty object.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && req.method === 'POST') req.body = {};
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    if (isHaloError(err)) return sendError(reply, err);
    const e = err as { validation?: unknown; statusCode?: number; message?: string; code?: string };
    // Fastify's own errors for a bad request (FST_ERR_CTP_*): a client error, never a stack trace.
    if (e.statusCode === 413 || e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      drainRefusedBody(req, reply);
      return sendError(
        reply,
        new HaloError(
          'HALO_E_BODY_TOO_LARGE',
          `request body too large: ${req.method} ${req.url.split('?')[0]} accepts at most ${bodyLimitOf(req)} bytes`,
        ),
      );
    }
    if (e.validation || (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500)) {
      return sendError(
        reply,
        new HaloError('HALO_E_BAD_REQUEST', `invalid request: ${e.message ?? 'bad input'}`),
      );
    }
    log.error({ err, url: req.url, method: req.method }, 'api request failed');
    return sendError(reply, new HaloError('HALO_E_INTERNAL', 'internal error; see the agent log'));
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(
      reply,
      new HaloError('HALO_E_NOT_FOUND', `no such endpoint: ${req.method} ${req.url.split('?')[0]}`),
    ),
  );

  const body = (id: (typeof REQUEST_SCHEMAS)[number]) => ({ schema: { body: { $ref: `${id}#` } } });
  const accepted = (message: string) => ({ ok: true, message });

  app.get('/openapi.json', async () => openApiDocument(options.version));
  app.get('/v1/status', async (req) =>
    ops.status({ peers: (req.query as Record<string, unknown>)['peers'] !== '0' }),
  );
  app.get('/v1/timelines', async () => ({ timelines: ops.timelines(), groups: ops.localGroups() }));
  app.post<{ Params: { group: string }; Body: { to?: string } }>(
    '/v1/groups/:group/move',
    body('MoveBody'),
    async (req, reply) => {
      await ops.move(req.params.group, req.body?.to);
      return reply
        .code(202)
        .send(accepted(`moving ${req.params.group}${req.body?.to ? ` to ${req.body.to}` : ''}`));
    },
  );
  app.post<{ Params: { group: string }; Body: { on?: string } }>(
    '/v1/groups/:group/start',
    body('StartBody'),
    async (req, reply) => {
      await ops.startGroup(req.params.group, req.body?.on);
      return reply.code(202).send(accepted(`starting ${req.params.group}`));
    },
  );
  app.post<{ Params: { group: string } }>('/v1/groups/:group/stop', body('Empty'), async (req, reply) => {
    await ops.stopGroup(req.params.group);
    return reply.code(202).send(accepted(`stopping ${req.params.group}`));
  });
  app.post<{ Params: { group: string }; Body: { resource?: string; node?: string } }>(
    '/v1/groups/:group/cleanup',
    body('CleanupBody'),
    async (req, reply) => {
      const { group } = req.params;
      const { resource, node } = req.body ?? {};
      const { cleared } = await ops.cleanup(group, {
        ...(resource !== undefined ? { resource } : {}),
        ...(node !== undefined ? { node } : {}),
      });
      const what = `${group}${resource ? `/${resource}` : ''}${node ? ` on ${node}` : ''}`;
      const marks =
        cleared.length > 0 ? `failure marks of ${cleared.join(', ')} cleared` : 'no failure marks';
      return reply
        .code(202)
        .send({ ok: true, message: `cleaning up ${what}: ${marks}; probing again`, cleared });
    },
  );
  app.get<{ Params: { group: string; resource: string } }>(
    '/v1/groups/:group/resources/:resource/params',
    async (req) => ops.getParams(req.params.group, req.params.resource),
  );
  app.patch<{ Params: { group: string; resource: string }; Body: Record<string, unknown> }>(
    '/v1/groups/:group/resources/:resource/params',
    body('ParamsPatch'),
    async (req) => ops.setParams(req.params.group, req.params.resource, req.body),
  );
  for (const standby of [true, false]) {
    app.post<{ Params: { node: string } }>(
      `/v1/nodes/:node/${standby ? 'standby' : 'unstandby'}`,
      body('Empty'),
      async (req, reply) => {
        const node = req.params.node;
        const result = await ops.setStandby(node, standby);
        return reply
          .code(202)
          .send(accepted(standby ? standbyMessage(node, result) : unstandbyMessage(node)));
      },
    );
  }
  app.post<{ Params: { group: string }; Body: { on: boolean } }>(
    '/v1/groups/:group/maintenance',
    body('MaintenanceBody'),
    async (req, reply) => {
      const { group } = req.params;
      await ops.setMaintenance(group, req.body.on);
      return reply.code(202).send(accepted(maintenanceMessage(`group ${group}`, req.body.on)));
    },
  );
  app.post<{ Body: { on: boolean } }>(
    '/v1/cluster/maintenance',
    body('MaintenanceBody'),
    async (req, reply) => {
      await ops.setMaintenance(null, req.body.on);
      return reply.code(202).send(accepted(maintenanceMessage('the cluster', req.body.on)));
    },
  );
  app.post<{ Params: { monitor: string } }>('/v1/monitors/:monitor/suspend', async (req, reply) => {
    await ops.suspendMonitor(decodeURIComponent(req.params.monitor));
    return reply.code(202).send(accepted(`suspended ${req.params.monitor}`));
  });
  app.post<{ Params: { monitor: string } }>('/v1/monitors/:monitor/resume', async (req, reply) => {
    await ops.resumeMonitor(decodeURIComponent(req.params.monitor));
    return reply.code(202).send(accepted(`resumed ${req.params.monitor}`));
  });
  app.get('/metrics', async (_req, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(ops.metrics()),
  );
  app.get('/v1/events', (req, reply) => streamEvents(ops, req, reply));
  options.extend?.(app);
  return app;
}

function standbyMessage(node: string, r: StandbyResult): string {
  const moving = r.held.filter((g) => !r.stopping.includes(g));
  const parts = [
    ...(moving.length ? [`moving ${moving.join(', ')} away, one at a time`] : []),
    ...(r.stopping.length ? [`${r.stopping.join(', ')} can run on no other node and will stop`] : []),
  ];
  return `node ${node} in standby: ${parts.length ? parts.join('; ') : 'it holds no group'}`;
}

function maintenanceMessage(what: string, on: boolean): string {
  return on
    ? `${what} in maintenance: its resources are left as they are (not started, stopped, moved, monitored or recovered, not even by the deadman)`
    : `${what} out of maintenance: each node probes first, then Halo manages the resources again`;
}

function unstandbyMessage(node: string): string {
  return `node ${node} out of standby: it may take groups again (groups move back only with autoFailback)`;
}

/** Server-sent events: the recent history first, then live events until the client goes away. */
function streamEvents(ops: ClusterOps, req: FastifyRequest, reply: FastifyReply) {
  const limit = Math.min(1000, Number((req.query as Record<string, string>)['history'] ?? 100) || 0);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const send = (event: unknown) => res.write(`data: ${JSON.stringify(event)}\n\n`);
  for (const e of ops.recentEvents(limit)) send(e);
  // follow=0: the history only, then the response ends (`halo events` without --follow).
  if ((req.query as Record<string, string>)['follow'] === '0') {
    res.end();
    return;
  }
  const unsubscribe = ops.subscribeEvents(send);
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  req.raw.on('close', () => {
    clearInterval(ping);
    unsubscribe();
  });
}

/**
 * Fastify refuses an oversized body before reading it and closes the connection after the
 * 413. With the rest of the body still unread in the server's socket buffer the kernel then
 * resets the connection, and a client still sending (any body larger than the socket buffers)
 * gets EPIPE or ECONNRESET instead of the 413. So the connection stays open and Node reads the
 * rest of the body and throws it away (its request dump), up to a bound; past that the client
 * is cut off. Only an authenticated client gets this far (the token is checked first).
 */
function drainRefusedBody(req: FastifyRequest, reply: FastifyReply): void {
  reply.removeHeader('connection');
  let discarded = 0;
  req.raw.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > MAX_DISCARDED_BYTES) req.raw.socket.destroy();
  });
}

/** How much of a refused body is read and thrown away before its connection is cut. */
export const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;

function bodyLimitOf(req: FastifyRequest): number {
  return (req.routeOptions as { bodyLimit?: number } | undefined)?.bodyLimit ?? DEFAULT_BODY_LIMIT;
}

/** EventSource cannot set headers: the web UI passes the token as ?token= for /v1/events only. */
function queryToken(req: FastifyRequest): string | undefined {
  if (!req.url.startsWith('/v1/events')) return undefined;
  const token = (req.query as Record<string, unknown> | undefined)?.['token'];
  return typeof token === 'string' ? token : undefined;
}

function sendError(reply: FastifyReply, err: HaloError) {
  return reply.code(err.httpStatus).type('application/json').send({ error: err.toJSON() });
}
