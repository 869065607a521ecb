/**
 * The component schemas of the OpenAPI document: request bodies, status, timelines and
 * events. server.ts validates request bodies against these, and config-store.ts reuses the
 * config push body, so what the API accepts is exactly what it publishes.
 */

import { MAX_CONFIG_BYTES } from '../config/load.js';

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

export const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' } as const;

export const schemas = {
  Error: errorBody,
  MoveBody: { type: 'object', additionalProperties: false, properties: { to: name } },
  StartBody: { type: 'object', additionalProperties: false, properties: { on: name } },
  CleanupBody: {
    type: 'object',
    additionalProperties: false,
    properties: {
      resource: { ...name, description: 'Only the failure counters of the monitors of this resource' },
      node: { ...name, description: 'Only the failure mark and counters of this node' },
    },
  },
  CleanupDone: {
    type: 'object',
    required: ['ok', 'cleared'],
    additionalProperties: false,
    properties: {
      ok: { type: 'boolean' },
      message: { type: 'string' },
      cleared: {
        type: 'array',
        items: { type: 'string' },
        description: 'Nodes whose failure marks (counted or expired) were cleared',
      },
    },
  },
  Empty: { type: 'object', additionalProperties: false, properties: {} },
  MaintenanceBody: {
    type: 'object',
    required: ['on'],
    additionalProperties: false,
    properties: {
      on: {
        type: 'boolean',
        description: 'true: enter maintenance (unmanaged); false: leave it (probes first)',
      },
    },
  },
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
      maintenance: {
        type: 'boolean',
        description: 'The whole cluster is in maintenance (`halo maintenance on`): every group unmanaged',
      },
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
      deadman: {
        description:
          'The self-fencing helper: ready, starting or down, restarts, and the held groups it covers (armed) or not yet (unfenced); null without one',
        oneOf: [
          { type: 'null' },
          {
            type: 'object',
            required: ['state', 'pid', 'restarts', 'armed', 'unfenced', 'lastExit'],
            properties: {
              state: { enum: ['off', 'starting', 'ready', 'down'] },
              pid: { type: ['integer', 'null'] },
              restarts: { type: 'integer' },
              armed: { type: 'array', items: { type: 'string' } },
              unfenced: { type: 'array', items: { type: 'string' } },
              lastExit: {
                oneOf: [
                  { type: 'null' },
                  {
                    type: 'object',
                    required: ['reason'],
                    properties: {
                      code: { type: ['integer', 'null'] },
                      signal: { type: ['string', 'null'] },
                      reason: { type: 'string' },
                    },
                  },
                ],
              },
            },
          },
        ],
      },
      config: { $ref: '#/components/schemas/ConfigVersion' },
      alerts: {
        description:
          "This node's alert receivers and their delivery counters since the agent started (see docs/alerts.md).",
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'type', 'sent', 'failed', 'dropped', 'queued', 'lastError'],
          properties: {
            name: { type: 'string' },
            type: { enum: ['script', 'webhook', 'smtp', 'snmp'] },
            sent: { type: 'integer' },
            failed: { type: 'integer' },
            dropped: { type: 'integer' },
            queued: { type: 'integer' },
            lastError: { type: ['string', 'null'] },
          },
        },
      },
      stateDir: {
        description:
          "This node's state directory as last probed (null before the first probe). When it is full or unwritable, intent writes sent to this node are refused with HALO_E_STATE_WRITE_FAILED.",
        oneOf: [
          { type: 'null' },
          {
            type: 'object',
            required: ['dir', 'writable', 'error', 'freeBytes', 'totalBytes', 'level', 'checkedAt'],
            properties: {
              dir: { type: 'string' },
              writable: { type: 'boolean' },
              error: { type: ['string', 'null'] },
              freeBytes: { type: ['integer', 'null'] },
              totalBytes: { type: ['integer', 'null'] },
              level: { type: 'string', enum: ['ok', 'low', 'full', 'unwritable'] },
              checkedAt: { type: 'string' },
            },
          },
        ],
      },
    },
  },
  ConfigVersion: {
    type: 'object',
    description:
      'The config this node runs and the one in its file; a pending change applies with `halo config apply` when reloadable, else when the agent restarts',
    required: ['file', 'runningEpoch', 'storedEpoch', 'pending', 'reloadable'],
    additionalProperties: false,
    properties: {
      file: { type: 'string' },
      runningEpoch: { type: 'string' },
      storedEpoch: { type: ['string', 'null'] },
      pending: { type: 'boolean' },
      reloadable: {
        type: 'boolean',
        description:
          'The pending change keeps the epoch: `POST /v1/config/apply` applies it without a restart',
      },
      storedError: { type: 'string' },
    },
  },
  ConfigPush: {
    type: 'object',
    required: ['yaml', 'epoch'],
    additionalProperties: false,
    properties: {
      // As long as a config file may be (the agent names the size in bytes more clearly).
      yaml: { type: 'string', minLength: 1, maxLength: MAX_CONFIG_BYTES },
      epoch: { type: 'string', pattern: '^[0-9a-fA-F]{1,16}$' },
      dryRun: { type: 'boolean', description: 'Only check the config on this node; write nothing' },
    },
  },
  ConfigPushed: {
    type: 'object',
    required: ['node', 'file', 'runningEpoch', 'storedEpoch', 'changed', 'pending', 'reloadable'],
    additionalProperties: false,
    properties: {
      node: { type: 'string' },
      file: { type: 'string' },
      runningEpoch: { type: 'string' },
      storedEpoch: { type: 'string' },
      changed: { type: 'boolean', description: 'false: the file already held exactly this text' },
      pending: { type: 'boolean' },
      reloadable: { type: 'boolean' },
    },
  },
  ConfigApply: {
    type: 'object',
    additionalProperties: false,
    properties: {
      mode: {
        enum: ['restart', 'next-start'],
        description:
          'restart (default): restart, one at a time, the resources whose changed parameters are read at start; next-start: leave them pending until the resource next starts',
      },
    },
  },
  ConfigApplied: {
    type: 'object',
    required: ['node', 'file', 'changed', 'runningEpoch', 'report'],
    additionalProperties: false,
    properties: {
      node: { type: 'string' },
      file: { type: 'string' },
      changed: { type: 'boolean', description: 'false: the file holds the config that runs' },
      runningEpoch: { type: 'string' },
      report: {
        type: ['object', 'null'],
        required: ['resources', 'monitors', 'restarting', 'alerts'],
        additionalProperties: false,
        properties: {
          resources: {
            type: 'array',
            items: {
              type: 'object',
              required: ['group', 'resource', 'applied', 'restart', 'overridden'],
              additionalProperties: false,
              properties: {
                group: { type: 'string' },
                resource: { type: 'string' },
                applied: { type: 'array', items: { type: 'string' } },
                restart: { type: 'array', items: { type: 'string' } },
                overridden: { type: 'array', items: { type: 'string' } },
              },
            },
          },
          monitors: {
            type: 'object',
            required: ['added', 'changed', 'removed'],
            additionalProperties: false,
            properties: {
              added: { type: 'array', items: { type: 'string' } },
              changed: { type: 'array', items: { type: 'string' } },
              removed: { type: 'array', items: { type: 'string' } },
            },
          },
          restarting: { type: 'array', items: { type: 'string' } },
          alerts: { type: 'boolean', description: 'The alert receivers were replaced' },
        },
      },
    },
  },
  Node: {
    type: 'object',
    required: ['name', 'address', 'self', 'up', 'eligible', 'reasons', 'standby'],
    properties: {
      name: { type: 'string' },
      address: { type: 'string' },
      self: { type: 'boolean' },
      up: { type: 'boolean' },
      eligible: { type: 'boolean' },
      reasons: { type: 'array', items: { type: 'string' } },
      standby: {
        type: 'boolean',
        description: 'In standby (`halo node standby`): takes no group; groups it still owns are moving away',
      },
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
      maintenance: {
        type: 'boolean',
        description:
          "Unmanaged (its own maintenance or the cluster's): its resources are left as they are, also by the deadman",
      },
      lastError: { type: ['string', 'null'] },
      intent: {
        type: 'object',
        required: ['state', 'preferred', 'failedNodes'],
        properties: {
          state: { enum: ['started', 'stopped'] },
          preferred: { type: ['string', 'null'] },
          failedNodes: { type: 'array', items: { type: 'string' } },
          failedReasons: { type: 'object', additionalProperties: { type: 'string' } },
          expiredNodes: {
            type: 'array',
            items: { type: 'string' },
            description:
              "Nodes whose failure mark is older than the group's failureTimeout: no longer counted",
          },
          failures: {
            type: 'object',
            description: 'Every failure mark (counted or expired) by node',
            additionalProperties: {
              type: 'object',
              required: ['reason', 'since', 'expiresAt', 'expired'],
              properties: {
                reason: { type: ['string', 'null'] },
                since: { type: ['string', 'null'] },
                expiresAt: { type: ['string', 'null'] },
                expired: { type: 'boolean' },
              },
            },
          },
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
      fencing: {
        description:
          'fencing: stonith groups only: fencing of the previous owner for the current or last term (null: none yet).',
        oneOf: [
          { type: 'null' },
          {
            type: 'object',
            required: ['phase', 'target', 'attempts', 'message'],
            properties: {
              phase: { enum: ['none', 'waiting', 'fencing', 'fenced'] },
              target: { type: ['string', 'null'] },
              attempts: { type: 'number' },
              message: { type: 'string' },
            },
          },
        ],
      },
      lastFailover: { oneOf: [{ type: 'null' }, { $ref: '#/components/schemas/FailoverTimeline' }] },
      onNodes: {
        description:
          "Each node of the group with its own phase of it: this node's from its engine, the others' as they answered (state null: down, not answering, or not asked with peers=0). The group's state is its owner's phase.",
        type: 'array',
        items: {
          type: 'object',
          required: ['node', 'state', 'since', 'lastError'],
          additionalProperties: false,
          properties: {
            node: { type: 'string' },
            state: { type: ['string', 'null'] },
            since: { type: ['string', 'null'] },
            lastError: { type: ['string', 'null'] },
          },
        },
      },
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
    properties: {
      timelines: { type: 'array', items: { $ref: '#/components/schemas/Timeline' } },
      groups: {
        description: "This node's own phase of every group (older agents leave it out)",
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'state', 'since', 'lastError'],
          additionalProperties: false,
          properties: {
            name: { type: 'string' },
            state: { type: 'string' },
            since: { type: 'string' },
            lastError: { type: ['string', 'null'] },
          },
        },
      },
    },
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
          'alert-failed',
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
      by: { type: 'string', description: 'The API token that asked (operator actions)' },
    },
  },
} as const;
