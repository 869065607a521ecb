import { z } from 'zod';
import { closest } from '../util/did-you-mean.js';
import type { ConfigCatalog } from './catalog.js';
import { finalActionSchema, stonithSchema } from './fencing-schema.js';
import { duration, host, name, port } from './fields.js';

/**
 * The schema of the YAML file as users write it (before normalization). The JSON Schema in
 * schema/ and docs/configuration.md are generated from this, so every field has a description.
 * Resource and monitor entries are built from the type registries: adding a type never edits
 * this file.
 */

const timingObject = z
  .strictObject({
    heartbeat: duration('Heartbeat period (membership view only).').optional(),
    lease: duration('Lease duration D granted by a majority.'),
    renew: duration('Renewal period R of the owner (default lease × 0.15).').optional(),
    stopBudget: duration(
      'Stop budget S: the owner stops its resources at V − S (default lease × 0.3).',
    ).optional(),
  })
  .describe('Explicit coordination timing.');

export const timingSchema = z
  .union(
    [z.enum(['fast', 'default', 'relaxed'], { error: 'expected fast, default or relaxed' }), timingObject],
    {
      error: 'expected a profile name (fast, default, relaxed) or { lease, renew, stopBudget, heartbeat }',
    },
  )
  .default('default')
  .describe(
    'Timing profile (fast: one site/LAN, default: cross-zone, relaxed: noisy networks) or explicit values.',
  );

const coordination = z
  .discriminatedUnion(
    'type',
    [
      z
        .strictObject({
          type: z.literal('embedded').describe('Nodes and the witness vote among themselves.'),
        })
        .describe('Nodes and the witness vote among themselves.'),
      z
        .strictObject({
          type: z.literal('etcd').describe('An existing etcd cluster holds leases and cluster state.'),
          endpoints: z
            .array(z.url({ error: 'expected an http(s):// etcd endpoint URL' }))
            .min(1)
            .describe('etcd client URLs, e.g. https://10.0.0.5:2379.'),
          prefix: z
            .string()
            .startsWith('/', { error: 'expected a key prefix starting with "/"' })
            .default('/halo')
            .describe('Key prefix under which Halo keeps leases, intent and the config epoch.'),
          electionTimeout: duration(
            "The etcd cluster's --election-timeout (etcd's default is 1s). The etcd lease TTL is raised until the owner's demote point outlasts a leader election (keepalive period + 3 × this + 100ms; keepalives go out every quarter of this), so killing the etcd leader does not stop a group: 1s gives a 4 s TTL, 500ms a 3 s TTL.",
          ).prefault('1s'),
          tls: z
            .strictObject({
              ca: z.string().optional().describe('CA certificate file (PEM).'),
              cert: z.string().optional().describe('Client certificate file (PEM).'),
              key: z.string().optional().describe('Client key file (PEM, mode 0600).'),
            })
            .optional(),
          username: z.string().optional().describe('etcd user (with passwordFile).'),
          passwordFile: z.string().optional().describe('File holding the etcd password (mode 0600).'),
        })
        .describe('An existing etcd cluster holds the leases and the cluster state.'),
    ],
    { error: 'expected type: embedded or type: etcd' },
  )
  .default({ type: 'embedded' })
  .describe('Where leases and cluster state live.');

const api = z
  .strictObject({
    port: port('REST API and web UI port on every node.').default(7400),
    host: z.string().default('0.0.0.0').describe('Address the API listens on.'),
    tokenFile: z.string().optional().describe('File holding the read-write API token (mode 0600).'),
    readOnlyTokenFile: z.string().optional().describe('File holding a read-only API token (mode 0600).'),
    tokens: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'a token name: letters, digits, _ . @ - (at most 64)'),
        z.strictObject({
          file: z.string().describe('File holding the token (mode 0600).'),
          access: z
            .enum(['read-write', 'read-only'])
            .default('read-write')
            .describe('read-write may operate the cluster; read-only may only read.'),
        }),
      )
      .optional()
      .describe(
        "Named API tokens, one per person or tool: every operator action (intent, parameters, config) is recorded with the token's name (`by` in events). The tokens above are named admin and read-only.",
      ),
    tls: z
      .strictObject({
        cert: z.string().describe('PEM certificate file.'),
        key: z.string().describe('PEM key file.'),
      })
      .optional()
      .describe('Serve the API over HTTPS.'),
  })
  .prefault({})
  .describe('The REST API and web UI.');

const keepalive = z
  .strictObject({
    idle: duration(
      'Idle time before the first keepalive probe; keep it below the smallest middlebox idle timeout.',
    ).prefault('230s'),
    interval: duration('Time between keepalive probes.').prefault('1s'),
    count: z
      .number()
      .int()
      .min(1)
      .max(127)
      .default(5)
      .describe('Probes before the connection is declared dead.'),
  })
  .prefault({})
  .describe('TCP keepalive applied to every socket Halo opens (stateful firewalls drop idle flows).');

const cluster = z
  .strictObject({
    name: name('Cluster name; messages of other clusters are dropped.'),
    secretFile: z
      .string({ error: 'expected the path of the shared cluster key file' })
      .min(1)
      .describe('Shared key file (mode 0600): every message between agents is authenticated with it.'),
    timing: timingSchema,
    coordination,
    api,
    keepalive,
    waitForAll: duration(
      'Cold start: a node that has just started proposes nothing until it has heard every voter (so each group starts on its most preferred eligible node), at most this long; then it goes on with a majority. A node joining a running cluster does not wait. 0s turns the wait off. Embedded coordination only.',
    ).prefault('10s'),
    unsafe: z
      .boolean()
      .default(false)
      .describe(
        'Allow a two-node cluster without a witness. A network split can then run a group on both nodes.',
      ),
    failureTimeout: duration(
      "Default of every group's `failureTimeout`. Unset (or 0s): failure marks last until `halo cleanup`.",
    ).optional(),
  })
  .describe('Cluster-wide settings.');

const node = z
  .strictObject({
    address: host('Address other agents reach this node at.'),
    peerPort: port('UDP port for agent-to-agent messages.').default(7401),
    apiPort: port('API port of this node (default cluster.api.port).').optional(),
    links: z
      .array(host('Extra address.'))
      .default([])
      .describe('Extra addresses, e.g. a dedicated cluster network.'),
    weight: z
      .number()
      .int()
      .min(1)
      .max(9)
      .default(1)
      .describe('Votes of this node (give one node 2 in an even cluster without witness).'),
  })
  .describe('A server running `halo agent`.');

const witness = z
  .strictObject({
    address: host('Address of the witness.'),
    port: port('UDP port of the witness.').default(7402),
  })
  .describe('A vote without resources on a third machine.');

const onFailure = z
  .union(
    [
      z.enum(['failover', 'ineligible', 'alert', 'none']),
      z.strictObject({
        restart: z
          .number()
          .int()
          .min(0)
          .max(100)
          .default(0)
          .describe('Restart the target this many times first.'),
        then: z
          .enum(['failover', 'ineligible', 'alert', 'none'])
          .default('failover')
          .describe('Then do this.'),
        restartWindow: duration(
          "Count only the restarts of this last period (like WSFC's RestartPeriod): the target is restarted at most `restart` times within any such window before `then`. Without it (or 0s) the count starts over once the monitor has passed for 10 intervals.",
        ).optional(),
      }),
    ],
    { error: 'expected failover, ineligible, alert, none, or { restart: N, then: ACTION }' },
  )
  .describe('Recovery when the monitor fails (after retries).');

/** Fields every monitor has, whatever its type: timing, retries, target and failure action. */
const monitorCommon = {
  interval: duration('Time between probes.').prefault('10s'),
  timeout: duration('Time limit of one probe.').prefault('5s'),
  retries: z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(1)
    .describe('Consecutive failures tolerated before acting.'),
  startWait: duration('Wait this long before the first probe.').prefault('0ms'),
  target: z
    .string()
    .optional()
    .describe('Group monitors: the resource that must be active for the monitor to run.'),
  onFailure: onFailure.optional(),
};

function variants<S extends { params: z.ZodObject }>(
  specs: ReadonlyMap<string, S>,
  extra: (spec: S) => z.ZodRawShape,
): z.ZodObject[] {
  return [...specs].map(([type, spec]) =>
    spec.params
      .extend({ type: z.literal(type), ...extra(spec) })
      .describe((spec as { description?: string }).description ?? type),
  );
}

function typeUnion(kind: string, options: z.ZodObject[]) {
  const names = options.map((o) => String((o.shape as { type: z.ZodLiteral }).type.value));
  const types = names.join(', ');
  return z.discriminatedUnion('type', options as [z.ZodObject, ...z.ZodObject[]], {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return `expected a ${kind} with a type (${types})`;
      const given = (issue.input as { type?: unknown } | null | undefined)?.type;
      if (given === undefined) return `unknown ${kind} type; expected one of: ${types}`;
      const near = typeof given === 'string' ? closest(given, names) : undefined;
      const hint = near ? ` (did you mean "${near}"?)` : '';
      return `unknown ${kind} type ${JSON.stringify(given)}${hint}; expected one of: ${types}`;
    },
  });
}

const alertCommon = {
  kinds: z
    .array(
      z.enum(['node', 'resource', 'fencing', 'attribute'], {
        error: 'expected node, resource, fencing or attribute',
      }),
    )
    .default([])
    .describe('Send only alerts of these kinds (CRM_alert_kind); all kinds when empty.'),
  minSeverity: z
    .enum(['info', 'warning', 'critical'], { error: 'expected info, warning or critical' })
    .default('info')
    .describe(
      'Send only alerts of at least this severity (failed actions and fencing are critical, a failover warning).',
    ),
  timeout: duration('Time limit of one delivery attempt (the script is killed past it).').prefault('10s'),
  queueSize: z
    .number()
    .int()
    .min(1)
    .max(10000)
    .default(100)
    .describe('Alerts waiting for this receiver; past it the oldest waiting alert is dropped and counted.'),
};

const alertReceiver = z.discriminatedUnion(
  'type',
  [
    z
      .strictObject({
        type: z.literal('script').describe('Runs an executable with the Pacemaker alert-agent environment.'),
        path: z
          .string({ error: 'expected the path of an executable' })
          .startsWith('/', { error: 'expected an absolute path' })
          .describe(
            "Executable to run, e.g. a copy of Pacemaker's /usr/share/pacemaker/alerts/alert_file.sh.sample.",
          ),
        recipient: z
          .string()
          .default('')
          .describe('Passed as CRM_alert_recipient (a file, an address: up to the agent).'),
        timestampFormat: z
          .string()
          .default('%H:%M:%S.%06N')
          .describe(
            "strftime format of CRM_alert_timestamp, as Pacemaker's timestamp-format (%N: nanoseconds, %3N/%6N digits).",
          ),
        env: z
          .record(z.string(), z.string({ error: 'expected a string value' }), {
            error: 'expected a map of NAME: value',
          })
          .default({})
          .describe(
            'Extra environment variables for the script (never put secrets here: use a file the script reads).',
          ),
        ...alertCommon,
      })
      .describe('Runs an executable with the Pacemaker alert-agent environment.'),
    z
      .strictObject({
        type: z.literal('webhook').describe('POSTs the alert as JSON.'),
        url: z.url({ error: 'expected an http(s):// URL' }).describe('Where the JSON is POSTed.'),
        secretFile: z
          .string()
          .optional()
          .describe(
            'File holding the key (mode 0600) of the X-Halo-Signature header: sha256=HMAC-SHA256(key, body) in hex.',
          ),
        retries: z
          .number()
          .int()
          .min(0)
          .max(20)
          .default(5)
          .describe('Attempts after a failed one (connection error, timeout or a 5xx/429 answer).'),
        backoff: duration('Wait before the first retry; doubled after each failed attempt.').prefault('1s'),
        ...alertCommon,
      })
      .describe('POSTs the alert as JSON.'),
    z
      .strictObject({
        type: z.literal('smtp').describe('Sends the alert as an e-mail.'),
        host: host('SMTP server.'),
        port: port('SMTP port.').default(25),
        secure: z
          .boolean()
          .default(false)
          .describe('TLS from the start (port 465); otherwise STARTTLS when offered.'),
        from: z.string({ error: 'expected a sender address' }).min(3).describe('Sender address.'),
        to: z
          .array(z.string().min(3), { error: 'expected a list of addresses' })
          .min(1, { error: 'expected at least one address' })
          .describe('Recipient addresses.'),
        ca: z
          .string()
          .optional()
          .describe(
            "PEM file of the CA that signed the server's certificate (a private mail relay); the system CAs otherwise.",
          ),
        user: z.string().optional().describe('SMTP user (with passwordFile).'),
        passwordFile: z.string().optional().describe('File holding the SMTP password (mode 0600).'),
        ...alertCommon,
      })
      .describe('Sends the alert as an e-mail.'),
    z
      .strictObject({
        type: z.literal('snmp').describe('Sends an SNMPv2c trap (docs/HALO-MIB.txt).'),
        host: host('Trap receiver.'),
        port: port('Trap receiver UDP port.').default(162),
        community: z.string().min(1).default('public').describe('SNMPv2c community.'),
        ...alertCommon,
      })
      .describe('Sends an SNMPv2c trap (docs/HALO-MIB.txt).'),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'unknown alert receiver type; expected one of: script, webhook, smtp, snmp'
        : 'expected an alert receiver with a type (script, webhook, smtp, snmp)',
  },
);

export function buildConfigSchema({ resources, monitors }: Pick<ConfigCatalog, 'resources' | 'monitors'>) {
  const resource = typeUnion(
    'resource',
    variants(resources, () => ({
      after: z
        .array(z.string())
        .default([])
        .describe('Resources of the same group that must be started first.'),
    })),
  );
  const monitor = typeUnion(
    'monitor',
    variants(monitors, () => monitorCommon),
  );
  const group = z
    .strictObject({
      nodes: z
        .array(z.string(), { error: 'expected a list of node names' })
        .min(1)
        .describe('Preference order; the group may run only on these.'),
      autoFailback: z.boolean().default(false).describe('Move back when a more preferred node returns.'),
      fencing: z
        .enum(['lease', 'token', 'stonith'], {
          error: 'expected lease, token or stonith (the watchdog policy is not available in this version)',
        })
        .default('lease')
        .describe(
          'lease: activate as soon as the grant arrives (the old owner has stopped by its lease deadline). token: the same, and the protected target must also refuse writes whose HALO_TERM is below the highest it has seen. stonith: the new owner first powers the old owner off through `stonith.device` and waits for the confirmation (docs/fencing.md).',
        ),
      stonith: stonithSchema.optional(),
      finalAction: finalActionSchema,
      probeInterval: duration(
        'How often a node where the group is stopped runs every resource check to find copies it did not start (left by a crash, started at boot); a copy found where the lease is not held is stopped. Every node also probes once when its agent starts.',
      ).prefault('10s'),
      failureTimeout: duration(
        "A node marked failed for this group (its start failed, or a monitor failed it over) may run the group again this long after the mark, like Pacemaker's failure-timeout; `halo cleanup` clears marks at once. 0s: marks last until cleared. Default: `cluster.failureTimeout`, else 0s.",
      ).optional(),
      resources: z
        .record(name('Resource name.'), resource)
        .default({})
        .describe('Started in dependency order, stopped in reverse.'),
      monitors: z
        .record(name('Monitor name.'), monitor)
        .default({})
        .describe('Run only while the group is active on this node.'),
    })
    .describe('A failover group: resources that move together.');

  return z
    .strictObject({
      cluster,
      nodes: z
        .record(name('Node name.'), node, { error: 'expected a map of node name → { address, … }' })
        .describe('The servers of the cluster.'),
      witness: witness.optional(),
      groups: z.record(name('Group name.'), group).default({}).describe('Failover groups.'),
      monitors: z
        .record(name('Monitor name.'), monitor)
        .default({})
        .describe('Node-level monitors, run on every node all the time.'),
      alerts: z
        .record(name('Receiver name.'), alertReceiver, {
          error: 'expected a map of receiver name → { type, … }',
        })
        .default({})
        .describe(
          'Alert receivers: each node sends its failovers, failed actions, lost leases and fencing to every receiver (see docs/alerts.md).',
        ),
    })
    .describe('Halo cluster configuration (one file, identical on every node).');
}

export type RawConfig = z.output<ReturnType<typeof buildConfigSchema>>;
