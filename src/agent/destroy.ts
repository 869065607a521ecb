import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { HaloConfig } from '../config/model.js';
import type { EngineStatus } from '../engine/engine-status.js';
import { HaloError } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * The agent's half of `halo destroy`: `GET /v1/agent/destroy` says what this
 * node would delete, `POST /v1/agent/destroy` deletes it and ends the agent. Only once every
 * group is stopped here, so a destroyed node never leaves a resource running behind it —
 * the CLI stops the groups first, in order, through the ordinary admin intent.
 */

export interface DestroyHooks {
  node: string;
  stateDir: string;
  config: HaloConfig;
  engine: () => EngineStatus;
  /** The agent's orderly stop (engine, coordination, deadman helper, API). */
  shutdown: () => Promise<void>;
  log: Logger;
  /** Ends the process once the state is gone; tests replace it. */
  exit?: (code: number) => void;
}

export interface DestroyPlan {
  node: string;
  stateDir: string;
  /** Entries of the state dir (names only). */
  stateEntries: string[];
  /** Files removed only with `purge`: the config file, the cluster key and the token files. */
  configFiles: string[];
  /** Groups not stopped on this node: destroy refuses while any is listed. */
  activeGroups: string[];
}

/** The files `--purge` removes: everything under /etc/halo that the config names. */
export function configFilesOf(config: HaloConfig): string[] {
  const { cluster } = config;
  const files = [config.file, cluster.secretFile, cluster.api.tokenFile, cluster.api.readOnlyTokenFile];
  if (cluster.coordination.type === 'etcd') files.push(cluster.coordination.passwordFile);
  return [...new Set(files.filter((f): f is string => typeof f === 'string' && f.length > 0))];
}

/**
 * `rm -r` of a mistyped state dir would be a disaster: accept only an absolute path at least
 * two levels deep that is not one of the system's own directories.
 */
export function unsafeStateDir(dir: string): string | undefined {
  const abs = resolve(dir);
  const parts = abs.split(sep).filter(Boolean);
  const system = ['/', '/etc', '/usr', '/var', '/var/lib', '/home', '/root', '/tmp', '/opt', '/srv'];
  if (parts.length < 2 || system.includes(abs) || abs === resolve(process.env['HOME'] ?? '/')) {
    return `refusing to delete state dir ${abs}: it is not a directory of its own`;
  }
  return undefined;
}

export function destroyPlan(hooks: DestroyHooks): DestroyPlan {
  const stateDir = resolve(hooks.stateDir);
  return {
    node: hooks.node,
    stateDir,
    stateEntries: existsSync(stateDir) ? readdirSync(stateDir).sort() : [],
    configFiles: configFilesOf(hooks.config),
    activeGroups: hooks
      .engine()
      .groups.filter((g) => g.phase !== 'stopped')
      .map((g) => g.name),
  };
}

export function registerDestroy(app: FastifyInstance, hooks: DestroyHooks): void {
  let destroying = false;
  app.get('/v1/agent/destroy', async () => destroyPlan(hooks));
  app.post<{ Body: { purge?: unknown } | undefined }>('/v1/agent/destroy', async (req, reply) => {
    const purge = req.body?.purge === true;
    const plan = destroyPlan(hooks);
    if (plan.activeGroups.length > 0) {
      throw new HaloError(
        'HALO_E_CONFLICT',
        `groups still active on ${hooks.node}: ${plan.activeGroups.join(', ')}; stop them first (halo destroy does)`,
        { activeGroups: plan.activeGroups },
      );
    }
    const unsafe = unsafeStateDir(plan.stateDir);
    if (unsafe) throw new HaloError('HALO_E_CONFLICT', unsafe, { stateDir: plan.stateDir });
    if (destroying) throw new HaloError('HALO_E_CONFLICT', `${hooks.node} is already being destroyed`);
    destroying = true;
    // Act only once the answer is on the wire: the agent's API goes away with it.
    reply.raw.once('finish', () => void teardown(app, hooks, plan, purge));
    return reply.code(202).send({
      ok: true,
      message: `destroying ${hooks.node}: stopping the agent, deleting ${plan.stateDir}${purge ? ' and the config files' : ''}`,
      ...plan,
      purge,
    });
  });
}

async function teardown(app: FastifyInstance, hooks: DestroyHooks, plan: DestroyPlan, purge: boolean) {
  const { log } = hooks;
  const exit = hooks.exit ?? ((code: number) => process.exit(code));
  let code = 0;
  try {
    log.warn({ node: hooks.node, stateDir: plan.stateDir, purge }, 'destroy requested: stopping the agent');
    // Open event streams (web UI, `halo events -f`) would keep the server's close waiting.
    app.server.closeAllConnections?.();
    await hooks.shutdown();
    await removeDir(plan.stateDir);
    if (purge) for (const f of plan.configFiles) await rm(f, { force: true });
    log.warn(
      { node: hooks.node, stateDir: plan.stateDir, purged: purge ? plan.configFiles : [] },
      'agent destroyed: state deleted',
    );
  } catch (err) {
    code = 1;
    log.error({ err, node: hooks.node }, 'destroy failed; delete the state dir by hand');
  }
  // Let pino's stdout drain before the process ends.
  setTimeout(() => exit(code), 100);
}

/** The engine's last event may still be on its way to disk; a second pass catches it. */
async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(dir)) return;
  }
  throw new HaloError('HALO_E_INTERNAL', `could not delete ${dir}`);
}
