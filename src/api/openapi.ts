/**
 * The OpenAPI 3.1 document of the REST API. Route schemas in server.ts are taken from here,
 * so fastify validates requests against exactly what is published at /openapi.json, and the
 * tests validate responses against it too.
 */

const errorBody = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', pattern: '^HALO_E_[A-Z_]+$' },
        message: { type: 'string' },
        details: { type: 'object' },
      },
    },
  },
} as const;

const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' } as const;

export const schemas = {
  Error: errorBody,
  MoveBody: { type: 'object', additionalProperties: false, properties: { to: name } },
  StartBody: { type: 'object', additionalProperties: false, properties: { on: name } },
  Empty: { type: 'object', additionalProperties: false, properties: {} },
  Accepted: {
    type: 'object',
    required: ['ok'],
    additionalProperties: false,
    properties: { ok: { type: 'boolean' }, message: { type: 'string' } },
  },
  ParamsPatch: { type: 'object', minProperties: 1, additionalProperties: true },
  Params: {
    type: 'object',
    required: ['params', 'pending'],
    additionalProperties: false,
    properties: { params: { type: 'object' }, pending: { type: 'object' } },
  },
  ParamsChanged: {
    type: 'object',
    required: ['live', 'pending'],
    additionalProperties: false,
    properties: {
      live: { type: 'array', items: { type: 'string' } },
      pending: { type: 'array', items: { type: 'string' } },
    },
  },
  Status: {
    type: 'object',
    required: ['cluster', 'node', 'quorum', 'nodes', 'groups'],
    properties: {
      cluster: { type: 'string' },
      node: { type: 'string' },
      epoch: { type: 'string' },
      quorum: { type: 'boolean' },
      nodes: { type: 'array', items: { type: 'object', required: ['name', 'up', 'eligible'] } },
      groups: { type: 'array', items: { type: 'object', required: ['name', 'owner', 'state'] } },
      monitors: { type: 'array', items: { type: 'object' } },
    },
  },
  Event: {
    type: 'object',
    required: ['seq', 'ts', 'node', 'type', 'message'],
    properties: {
      seq: { type: 'integer' },
      ts: { type: 'string' },
      node: { type: 'string' },
      type: { type: 'string' },
      message: { type: 'string' },
    },
  },
} as const;

const ref = (n: keyof typeof schemas) => ({ $ref: `#/components/schemas/${n}` });
const json = (n: keyof typeof schemas) => ({ content: { 'application/json': { schema: ref(n) } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: 'Error', ...json('Error') }]));
const groupParam = { name: 'group', in: 'path', required: true, schema: name };
const resourceParam = { name: 'resource', in: 'path', required: true, schema: name };
const monitorParam = { name: 'monitor', in: 'path', required: true, schema: { type: 'string' } };

export function openApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Halo API',
      version,
      description: 'Status and operations of a Halo cluster, served by every agent.',
    },
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/status': {
        get: {
          summary: 'Nodes, groups, resources, monitors, pending changes',
          responses: { 200: json('Status'), ...errors(401) },
        },
      },
      '/v1/events': {
        get: {
          summary: 'Server-sent events: recent events, then live ones',
          responses: { 200: { description: 'text/event-stream of Event objects' }, ...errors(401) },
        },
      },
      '/v1/groups/{group}/move': {
        post: {
          summary: 'Move a group (to a node, or to the next best one)',
          parameters: [groupParam],
          requestBody: json('MoveBody'),
          responses: { 202: json('Accepted'), ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/v1/groups/{group}/start': {
        post: {
          summary: 'Start a stopped group (optionally on a node)',
          parameters: [groupParam],
          requestBody: json('StartBody'),
          responses: { 202: json('Accepted'), ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/v1/groups/{group}/stop': {
        post: {
          summary: 'Stop a group everywhere (admin intent, survives restarts)',
          parameters: [groupParam],
          requestBody: json('Empty'),
          responses: { 202: json('Accepted'), ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/v1/groups/{group}/resources/{resource}/params': {
        get: {
          summary: 'Parameters and pending changes',
          parameters: [groupParam, resourceParam],
          responses: { 200: json('Params'), ...errors(401, 404) },
        },
        patch: {
          summary:
            'Change parameters: live ones apply at once, restart ones stay pending until the resource restarts',
          parameters: [groupParam, resourceParam],
          requestBody: json('ParamsPatch'),
          responses: { 200: json('ParamsChanged'), ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/v1/monitors/{monitor}/suspend': {
        post: {
          summary: 'Suspend a monitor (GROUP/MONITOR for group monitors)',
          parameters: [monitorParam],
          responses: { 202: json('Accepted'), ...errors(401, 403, 404, 409) },
        },
      },
      '/v1/monitors/{monitor}/resume': {
        post: {
          summary: 'Resume a suspended monitor',
          parameters: [monitorParam],
          responses: { 202: json('Accepted'), ...errors(401, 403, 404, 409) },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text format)',
          responses: { 200: { description: 'text/plain; version=0.0.4' }, ...errors(401) },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } },
      },
    },
  };
}
