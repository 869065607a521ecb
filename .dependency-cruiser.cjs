/**
 * Layering of src/ (checked by test/unit/architecture/dependencies.test.ts; run by hand with
 * `npx depcruise src --config .dependency-cruiser.cjs`).
 *
 * A module may import its own layer and the layers BELOW it, never one above; and no import
 * cycles anywhere in src/. From the bottom up:
 *
 *   base          util/, errors.ts, log.ts: no Halo imports beyond each other.
 *   config        the YAML model, schema and loader. It knows plugin specs and lease-timing
 *                 rules only through the ConfigCatalog it is handed (src/config/catalog.ts).
 *   net           socket helpers (TCP keepalive) shared by coordination, cloud and the agent;
 *                 reads config types only.
 *   coordination  leases, witness, deadman helper, etcd backend.
 *   cloud         API clients of cloud providers (EC2, instance metadata). No resources here:
 *                 the AWS resource plugins live in engine/resources; the doctor and the agent
 *                 use these clients too.
 *   engine        groups, monitors, recovery, resource and monitor plugins, and the built-in
 *                 config catalog (engine/config-catalog.ts) that binds config to the plugins.
 *   alerts        alert delivery (script, webhook, smtp, snmp receivers) fed by the event log.
 *   api, web      the REST server and the static web UI: they see the engine through
 *                 interfaces handed in by the agent.
 *   agent         composes a node: config + coordination + engine + api + web + cloud.
 *   doctor        pre-flight checks and teardown plans; may read the agent's destroy plan.
 *   demo          the local demo cluster (drives the CLI as child processes).
 *   cli, artifacts   entry points and tools at the top: the command line, the generator of
 *                 committed docs/schema.
 */

/** [name, path pattern] from the bottom layer to the top one. */
const LAYERS = [
  ['base', '^src/(util/|errors\\.ts$|log\\.ts$)'],
  ['config', '^src/config/'],
  ['net', '^src/net/'],
  ['coordination', '^src/coordination/'],
  ['cloud', '^src/cloud/'],
  ['engine', '^src/engine/'],
  ['alerts', '^src/alerts/'],
  ['api', '^src/(api|web)/'],
  ['agent', '^src/agent/'],
  ['doctor', '^src/doctor/'],
  ['demo', '^src/demo/'],
  ['tools', '^src/(cli|artifacts)/'],
];

const upward = LAYERS.slice(0, -1).map(([name, path], i) => {
  const above = LAYERS.slice(i + 1).map(([, p]) => p);
  return {
    name: `no-upward-from-${name}`,
    comment: `The ${name} layer may not import a layer above it (${LAYERS.slice(i + 1)
      .map(([n]) => n)
      .join(', ')}).`,
    severity: 'error',
    from: { path },
    to: { path: above },
  };
});

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-unlayered-module',
      comment: 'Every module in src/ belongs to a layer: add a new top-level directory to LAYERS.',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map(([, p]) => p) },
      to: { path: '^src/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles in src/ (type-only imports included).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    // Type-only imports count: a layer that needs another's types depends on it all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
