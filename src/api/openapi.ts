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
    required: ['cluster', 'node', 'epoch', 'quorum', 'quarantined', 'nodes', 'witness', 'groups', 'monitors'],
    properties: {
      cluster: { type: 'string' },
      node: { type: 'string' },
      epoch: { type: 'string' },
      quorum: { type: 'boolean' },
      quarantined: { type: 'boolean' },
      nodes: { type: 'array', items: { $ref: '#/components/schemas/Node' } },
      witness: {
        oneOf: [
          { type: 'null' },
          { type: 'object', required: ['up'], properties: { up: { type: 'boolean' } } },
        ],
      },
      groups: { type: 'array', items: { $ref: '#/components/schemas/Group' } },
      monitors: { type: 'array', items: { $ref: '#/components/schemas/Monitor' } },
      droppedMessages: { type: 'object', additionalProperties: { type: 'integer' } },
      config: { $ref: '#/components/schemas/ConfigVersion' },
    },
  },
  ConfigVersion: {
    type: 'object',
    description:
      'The config this node runs and the one in its file; pending until the agent restarts (no hot reload)',
    required: ['file', 'runningEpoch', 'storedEpoch', 'pending'],
    additionalProperties: false,
    properties: {
      file: { type: 'string' },
      runningEpoch: { type: 'string' },
      storedEpoch: { type: ['string', 'null'] },
      pending: { type: 'boolean' },
      storedError: { type: 'string' },
    },
  },
  ConfigPush: {
    type: 'object',
    required: ['yaml', 'epoch'],
    additionalProperties: false,
    properties: {
      yaml: { type: 'string', minLength: 1, maxLength: 524288 },
      epoch: { type: 'string', pattern: '^[0-9a-fA-F]{1,16}$' },
      dryRun: { type: 'boolean', description: 'Only check the config on this node; write nothing' },
    },
  },
  ConfigPushed: {
    type: 'object',
    required: ['node', 'file', 'runningEpoch', 'storedEpoch', 'changed', 'pending'],
    additionalProperties: false,
    properties: {
      node: { type: 'string' },
      file: { type: 'string' },
      runningEpoch: { type: 'string' },
      storedEpoch: { type: 'string' },
      changed: { type: 'boolean', description: 'false: the file already held exactly this text' },
      pending: { type: 'boolean' },
    },
  },
  Node: {
    type: 'object',
    required: ['name', 'address', 'self', 'up', 'eligible', 'reasons'],
    properties: {
      name: { type: 'string' },
      address: { type: 'string' },
      self: { type: 'boolean' },
      up: { type: 'boolean' },
      eligible: { type: 'boolean' },
      reasons: { type: 'array', items: { type: 'string' } },
      lastSeenAgoMs: { type: ['number', 'null'] },
      rttMs: { type: ['number', 'null'] },
    },
  },
  Group: {
    type: 'object',
    required: ['name', 'owner', 'state', 'since', 'term', 'intent', 'resources', 'monitors', 'pending'],
    properties: {
      name: { type: 'string' },
      owner: { type: ['string', 'null'] },
      state: {
        type: 'string',
        description: "This node's phase for the group (running, stopped, starting, stopping, failed-stop…)",
      },
      since: { type: 'string' },
      term: { type: ['string', 'null'] },
      heldHere: { type: 'boolean' },
      leaseValidForMs: { type: ['number', 'null'] },
      failed: { type: 'boolean' },
      lastError: { type: ['string', 'null'] },
      intent: {
        type: 'object',
        required: ['state', 'preferred', 'failedNodes'],
        properties: {
          state: { enum: ['started', 'stopped'] },
          preferred: { type: ['string', 'null'] },
          failedNodes: { type: 'array', items: { type: 'string' } },
        },
      },
      resources: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'type', 'state', 'pendingParams'],
          properties: {
            name: { type: 'string' },
            type: { type: 'string' },
            state: { type: 'string' },
            pendingParams: { type: 'object' },
          },
        },
      },
      monitors: { type: 'array', items: { $ref: '#/components/schemas/Monitor' } },
      pending: { type: 'object', description: 'Resource name → restart parameters waiting for a restart' },
      lastTimeline: { oneOf: [{ type: 'null' }, { $ref: '#/components/schemas/Timeline' }] },
      lastFailover: { oneOf: [{ type: 'null' }, { $ref: '#/components/schemas/FailoverTimeline' }] },
    },
  },
  Monitor: {
    type: 'object',
    required: ['key', 'name', 'type', 'state', 'suspended', 'consecutiveFailures', 'lastResult'],
    properties: {
      key: { type: 'string' },
      name: { type: 'string' },
      type: { type: 'string' },
      group: { type: ['string', 'null'] },
      state: { enum: ['suspended', 'inactive', 'pending', 'passing', 'failing'] },
      suspended: { type: 'boolean' },
      consecutiveFailures: { type: 'integer' },
      lastResult: {
        oneOf: [
          { type: 'null' },
          {
            type: 'object',
            required: ['ok', 'at', 'durationMs'],
            properties: { ok: { type: 'boolean' }, at: { type: 'string' }, durationMs: { type: 'number' } },
          },
        ],
      },
      lastOutput: { type: ['string', 'null'] },
    },
  },
  Timeline: {
    type: 'object',
    description: "One node's half of a failover, timed on its monotonic clock",
    required: ['group', 'node', 'reason', 'steps', 'totalMs'],
    properties: {
      group: { type: 'string' },
      node: { type: 'string' },
      reason: { type: 'string' },
      totalMs: { type: 'number' },
      steps: {
        type: 'array',
        items: {
          type: 'object',
          required: ['phase', 'at', 'sinceStartMs', 'durationMs'],
          properties: {
            phase: { $ref: '#/components/schemas/Phase' },
            at: { type: 'string' },
            sinceStartMs: { type: 'number' },
            durationMs: { type: 'number' },
          },
        },
      },
    },
  },
  FailoverTimeline: {
    type: 'object',
    description: "The last move or failover of a group, both nodes' halves merged",
    required: ['group', 'reason', 'from', 'to', 'steps', 'totalMs', 'complete'],
    additionalProperties: false,
    properties: {
      group: { type: 'string' },
      reason: { type: 'string' },
      from: { type: ['string', 'null'] },
      to: { type: ['string', 'null'] },
      totalMs: { type: 'number' },
      complete: { type: 'boolean' },
      steps: {
        type: 'array',
        items: {
          type: 'object',
          required: ['phase', 'node', 'at', 'sinceStartMs', 'durationMs'],
          additionalProperties: false,
          properties: {
            phase: { $ref: '#/components/schemas/Phase' },
            node: { type: 'string' },
            at: { type: 'string' },
            sinceStartMs: { type: 'number', minimum: 0 },
            durationMs: { type: 'number', minimum: 0 },
          },
        },
      },
    },
  },
  Phase: { enum: ['detected', 'decided', 'stopped', 'lease-granted', 'started', 'healthy'] },
  Timelines: {
    type: 'object',
    required: ['timelines'],
    additionalProperties: false,
    properties: { timelines: { type: 'array', items: { $ref: '#/components/schemas/Timeline' } } },
  },
  Event: {
    type: 'object',
    required: ['seq', 'ts', 'node', 'type', 'message'],
    properties: {
      seq: { type: 'integer' },
      ts: { type: 'string' },
      node: { type: 'string' },
      type: {
        enum: [
          'agent',
          'lease',
          'group',
          'resource',
          'monitor',
          'recovery',
          'intent',
          'params',
          'alert',
          'timeline',
        ],
      },
      level: { enum: ['info', 'warn', 'error'] },
      group: { type: 'string' },
      resource: { type: 'string' },
      monitor: { type: 'string' },
      message: { type: 'string' },
      output: { type: 'string' },
      details: { type: 'object' },
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
          parameters: [
            {
              name: 'peers',
              in: 'query',
              required: false,
              schema: { enum: ['0', '1'] },
              description: 'peers=0: do not ask peers for their half of the last failover',
            },
          ],
          responses: { 200: json('Status'), ...errors(401) },
        },
      },
      '/v1/timelines': {
        get: {
          summary:
            "This node's half of each group's last failover; peers read it with the token derived from the cluster key",
          responses: { 200: json('Timelines'), ...errors(401, 403) },
        },
      },
      '/v1/events': {
        get: {
          summary: 'Server-sent events: recent events, then live ones',
          parameters: [
            {
              name: 'history',
              in: 'query',
              required: false,
              description: 'How many recent events to send first (default 100)',
              schema: { type: 'integer', minimum: 0, maximum: 1000 },
            },
            {
              name: 'follow',
              in: 'query',
              required: false,
              description: 'follow=0: end the stream after the history',
              schema: { enum: ['0', '1'] },
            },
          ],
          responses: {
            200: {
              description: 'text/event-stream; each `data:` line is one Event',
              content: { 'text/event-stream': { schema: ref('Event') } },
            },
            ...errors(401),
          },
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
      '/v1/agent/destroy': {
        get: {
          summary: 'What `halo destroy` would remove on this node (state dir, config files, active groups)',
          responses: { 200: { description: 'The plan of this node' }, ...errors(401) },
        },
        post: {
          summary:
            'Teardown step of `halo destroy`: once every group is stopped, the agent stops, deletes its state (and with purge the config, key and token files) and exits',
          responses: { 202: { description: 'The agent is going away' }, ...errors(401, 403, 409) },
        },
      },
      '/v1/config': {
        get: {
          summary: 'The config version this node runs and the one stored in its file',
          responses: { 200: json('ConfigVersion'), ...errors(401) },
        },
        put: {
          summary:
            'Store a new config version (`halo config push`): checked on this node, written atomically over its config file (previous kept as FILE.prev); applies when the agent restarts',
          requestBody: json('ConfigPush'),
          responses: { 200: json('ConfigPushed'), ...errors(400, 401, 403, 409, 500) },
        },
      },
      '/v1/whoami': {
        get: {
          summary: 'The access this token grants (read-write or read-only)',
          responses: { 200: { description: '{ access }' }, ...errors(401) },
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
