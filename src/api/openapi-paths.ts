import { CONFIG_PUSH_BODY_LIMIT, DEFAULT_BODY_LIMIT } from './body-limits.js';
import { name, type schemas } from './openapi-schemas.js';

/**
 * The paths of the OpenAPI document: one entry per route of server.ts with its parameters,
 * request body and every status it can answer (errors use the shared Error body).
 */

const ref = (n: keyof typeof schemas) => ({ $ref: `#/components/schemas/${n}` });
const json = (n: keyof typeof schemas) => ({ content: { 'application/json': { schema: ref(n) } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [String(c), { description: ERROR_TEXT[c] ?? 'Error', ...json('Error') }]),
  );
/**
 * 413 on every operation that takes a body: fastify reads a body on any POST, PUT or PATCH
 * (also where none is documented) and refuses one over the route's limit before the handler.
 */
const tooLarge = (limit = DEFAULT_BODY_LIMIT) => ({
  413: {
    description: `Error: HALO_E_BODY_TOO_LARGE (the request body is over ${limit} bytes; nothing was changed)`,
    ...json('Error'),
  },
});
/** 503 on an intent write: no majority confirmed it, or this node's state dir refused it first. */
const ERROR_TEXT: Record<number, string> = {
  503: 'Error: HALO_E_NO_QUORUM (no majority stored the change) or HALO_E_STATE_WRITE_FAILED (this node cannot write its state directory; nothing was changed on any node)',
};
const groupParam = { name: 'group', in: 'path', required: true, schema: name };
const resourceParam = { name: 'resource', in: 'path', required: true, schema: name };
const nodeParam = { name: 'node', in: 'path', required: true, schema: name };
const monitorParam = { name: 'monitor', in: 'path', required: true, schema: { type: 'string' } };

export const paths = {
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
        "This node's half of each group's last failover and its own phase of each group; peers read it with the token derived from the cluster key",
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
      responses: { 202: json('Accepted'), ...errors(400, 401, 403, 404, 409, 503), ...tooLarge() },
    },
  },
  '/v1/groups/{group}/start': {
    post: {
      summary: 'Start a stopped group (optionally on a node)',
      parameters: [groupParam],
      requestBody: json('StartBody'),
      responses: { 202: json('Accepted'), ...errors(400, 401, 403, 404, 409, 503), ...tooLarge() },
    },
  },
  '/v1/groups/{group}/stop': {
    post: {
      summary: 'Stop a group everywhere (admin intent, survives restarts)',
      parameters: [groupParam],
      requestBody: json('Empty'),
      responses: { 202: json('Accepted'), ...errors(400, 401, 403, 404, 409, 503), ...tooLarge() },
    },
  },
  '/v1/groups/{group}/cleanup': {
    post: {
      summary:
        'Clear the failure history of a group (or of one resource, on one node): failure marks, monitor failure and restart counters, a failed stop; the nodes concerned probe the group again',
      parameters: [groupParam],
      requestBody: json('CleanupBody'),
      responses: { 202: json('CleanupDone'), ...errors(400, 401, 403, 404, 409, 503), ...tooLarge() },
    },
  },
  '/v1/groups/{group}/maintenance': {
    post: {
      summary:
        'Maintenance mode (unmanaged) of a group on or off: while on, nothing of it is started, stopped, moved, monitored, probed or recovered, and the deadman leaves it running; leaving it probes first; cluster intent, survives restarts',
      parameters: [groupParam],
      requestBody: json('MaintenanceBody'),
      responses: { 202: json('Accepted'), ...errors(400, 401, 403, 404, 503), ...tooLarge() },
    },
  },
  '/v1/cluster/maintenance': {
    post: {
      summary:
        'Maintenance mode (unmanaged) of the whole cluster on or off: every group as with group maintenance, node-level monitors suspended',
      requestBody: json('MaintenanceBody'),
      responses: { 202: json('Accepted'), ...errors(400, 401, 403, 503), ...tooLarge() },
    },
  },
  '/v1/groups/{group}/resources/{resource}/params': {
    get: {
      summary:
        'Parameters in effect where the resource runs and accepted changes pending until it next starts (the same on every node)',
      parameters: [groupParam, resourceParam],
      responses: { 200: json('Params'), ...errors(401, 404) },
    },
    patch: {
      summary:
        'Change parameters for the cluster (acknowledged once a majority stored them): live ones apply at once where the resource runs, restart ones stay pending until it next starts on any node',
      parameters: [groupParam, resourceParam],
      requestBody: json('ParamsPatch'),
      responses: { 200: json('ParamsChanged'), ...errors(400, 401, 403, 404, 409, 503), ...tooLarge() },
    },
  },
  '/v1/nodes/{node}/standby': {
    post: {
      summary:
        'Put a node in standby: it takes no group, and the groups it holds move away one at a time (those no other node can take stop); cluster intent, survives restarts',
      parameters: [nodeParam],
      requestBody: json('Empty'),
      responses: { 202: json('Accepted'), ...errors(400, 401, 403, 404, 503), ...tooLarge() },
    },
  },
  '/v1/nodes/{node}/unstandby': {
    post: {
      summary: 'Take a node out of standby: it may take groups again (they move back only with autoFailback)',
      parameters: [nodeParam],
      requestBody: json('Empty'),
      responses: { 202: json('Accepted'), ...errors(400, 401, 403, 404, 503), ...tooLarge() },
    },
  },
  '/v1/monitors/{monitor}/suspend': {
    post: {
      summary: 'Suspend a monitor (GROUP/MONITOR for group monitors)',
      parameters: [monitorParam],
      responses: { 202: json('Accepted'), ...errors(401, 403, 404, 409, 503), ...tooLarge() },
    },
  },
  '/v1/monitors/{monitor}/resume': {
    post: {
      summary: 'Resume a suspended monitor',
      parameters: [monitorParam],
      responses: { 202: json('Accepted'), ...errors(401, 403, 404, 409, 503), ...tooLarge() },
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
      responses: { 202: { description: 'The agent is going away' }, ...errors(401, 403, 409), ...tooLarge() },
    },
  },
  '/v1/config': {
    get: {
      summary: 'The config version this node runs and the one stored in its file',
      responses: { 200: json('ConfigVersion'), ...errors(401) },
    },
    put: {
      summary:
        'Store a new config version (`halo config push`): checked on this node, written atomically over its config file (previous kept as FILE.prev); applied by `POST /v1/config/apply` when reloadable, else when the agent restarts',
      requestBody: json('ConfigPush'),
      responses: {
        200: json('ConfigPushed'),
        ...errors(400, 401, 403, 409, 500),
        ...tooLarge(CONFIG_PUSH_BODY_LIMIT),
      },
    },
  },
  '/v1/config/apply': {
    post: {
      summary:
        'Apply the config file to the running agent (`halo config apply`) when its change keeps the epoch: parameters, monitors, alerts; untouched groups and monitors keep running. 409 when the change needs a rolling restart',
      requestBody: json('ConfigApply'),
      responses: { 200: json('ConfigApplied'), ...errors(400, 401, 403, 409, 500), ...tooLarge() },
    },
  },
  '/v1/whoami': {
    get: {
      summary: 'The access this token grants (read-write or read-only) and its name',
      responses: { 200: { description: '{ access, name }' }, ...errors(401) },
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
};
