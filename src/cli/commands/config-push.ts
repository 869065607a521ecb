import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PushResult } from '../../agent/config-store.js';
import type { HaloConfig } from '../../config/model.js';
import { loadConfig, parseConfig } from '../../engine/config-catalog.js';
import { HaloError, isHaloError } from '../../errors.js';
import type { ApiClient } from '../api-client.js';
import type { Command } from '../command.js';
import { clientFor } from '../node-clients.js';
import { applyEverywhere, describeApply } from './config-apply.js';

/**
 * `halo config push FILE`: check FILE here, then on every node (dry run), and
 * only when every node accepts it store it everywhere. Agents keep running the old version
 * until they restart; the epoch of the config is part of every peer message, so nodes of
 * different versions never count each other's votes — hence the rolling restart it prints.
 */

type Outcome = 'stored' | 'unchanged' | 'failed' | 'unreachable';

interface NodeReport {
  node: string;
  outcome: Outcome;
  runningEpoch?: string;
  storedEpoch?: string;
  /** The stored file differs from what the agent runs. */
  pending?: boolean;
  /** ...and `halo config apply` can apply it without a restart. */
  reloadable?: boolean;
  error?: { code: string; message: string };
}

export const configPush: Command = {
  words: ['config', 'push'],
  summary:
    'Distribute a new config version to every node and apply it: without a restart when it keeps the epoch, else by a rolling restart it prints.',
  args: 'FILE',
  arity: [1, 1],
  options: {
    config: {
      type: 'string',
      short: 'c',
      description: 'The config the agents run now: how to reach them and the token (default: FILE).',
      valueName: 'CURRENT',
    },
    'token-file': {
      type: 'string',
      description: 'File with the API token (default: HALO_TOKEN, else the tokenFile of the config).',
      valueName: 'FILE',
    },
    'no-apply': {
      type: 'boolean',
      description: 'Only store the file; apply it later with `halo config apply` (or a restart).',
    },
    'on-next-start': {
      type: 'boolean',
      description: 'When applying: leave parameters read at start pending until the resource next starts.',
    },
    force: {
      type: 'boolean',
      description: 'Store on the reachable nodes although a node is unreachable (copy FILE there yourself).',
    },
    json: { type: 'boolean', description: 'Print the result per node as JSON.' },
  },
  details: `FILE is validated here first (every problem listed, exit code 2, nothing sent). Then each
node checks it too (its own key and token files must exist, it must still be listed, the cluster
name must match); only when every node accepts it is it written, atomically, over each node's
config file, the previous version kept as FILE.prev. When the change keeps the epoch (resource
parameters, monitors, alert receivers, a group's probeInterval, failureTimeout, finalAction) it
is then applied to the running agents, node by node, as \`halo config apply\` does: groups the
change does not touch keep running. Otherwise (cluster, nodes, witness, groups or their
resources changed) each agent applies it when it restarts, and \`halo status\` shows
config.pending until then. Nodes running different epochs do not vote together, so restart
them in the order printed. Exit code 1 when a node failed or was unreachable (unless --force).`,
  async run(ctx) {
    const { options, stdout } = ctx;
    const file = ctx.positionals[0]!;
    const text = readText(file);
    const path = resolve(file);
    // Key and token files are checked by each agent on its own disk, not here.
    const next = parseConfig(text, file, { checkFiles: false, baseDir: dirname(path), absPath: path });
    const epoch = next.epoch.toString(16);
    const currentFile = (options['config'] as string | undefined) ?? file;
    const current = currentFile === file ? next : loadConfig(currentFile, { checkFiles: false });
    const clients = await Promise.all(
      next.nodes.map(async (n) => ({
        node: n.name,
        api: await clientFor(ctx, current, next, n.name, currentFile),
      })),
    );
    const dropped = current.nodes
      .filter((n) => !next.nodes.some((m) => m.name === n.name))
      .map((n) => n.name);

    // Phase 1: every node checks the file; nothing is written unless all of them accept it.
    const checks = await Promise.all(clients.map((c) => push(c.node, c.api, text, epoch, true)));
    const failed = checks.filter((r) => r.outcome === 'failed');
    const unreachable = checks.filter((r) => r.outcome === 'unreachable');
    const force = options['force'] === true;
    let reports = checks;
    let wrote = false;
    if (failed.length === 0 && (unreachable.length === 0 || force)) {
      const reachable = new Set(checks.filter((r) => r.outcome !== 'unreachable').map((r) => r.node));
      reports = await Promise.all(
        clients.map((c) =>
          reachable.has(c.node)
            ? push(c.node, c.api, text, epoch, false)
            : checks.find((r) => r.node === c.node)!,
        ),
      );
      wrote = true;
    }
    const code = reports.some((r) => r.outcome === 'failed' || (r.outcome === 'unreachable' && !force))
      ? 1
      : 0;

    const stored = reports.filter((r) => r.outcome === 'stored' || r.outcome === 'unchanged');
    const keepsEpoch = stored.every((r) => r.reloadable || !r.pending) && dropped.length === 0;
    const reloadable = wrote && code === 0 && unreachable.length === 0 && keepsEpoch;
    const applied =
      reloadable && options['no-apply'] !== true
        ? await applyEverywhere(
            clients.filter((c) => stored.some((r) => r.node === c.node)),
            options['on-next-start'] === true ? 'next-start' : 'restart',
          )
        : null;
    const applyCode = applied?.some((r) => r.outcome === 'failed' || r.outcome === 'unreachable') ? 1 : 0;
    if (options['json']) {
      stdout(
        `${JSON.stringify({ file, epoch, written: wrote, nodes: reports, notPushed: dropped, applied }, null, 2)}\n`,
      );
      return Math.max(code, applyCode);
    }
    stdout(`${file}: valid, epoch ${epoch}\n`);
    for (const r of reports) stdout(`  ${r.node}: ${describe(r, wrote)}\n`);
    if (dropped.length > 0)
      stdout(
        `  not pushed to ${dropped.join(', ')}: not in ${file} (stop those agents before the restart)\n`,
      );
    if (!wrote) {
      const why =
        failed.length > 0 ? 'a node refused it' : `unreachable: ${unreachable.map((r) => r.node).join(', ')}`;
      stdout(
        `\nNothing was written (${why}). Fix it and push again${failed.length > 0 ? '' : ', or use --force'}.\n`,
      );
      return code;
    }
    if (stored.length === 0) return code;
    if (stored.every((r) => !r.pending)) {
      stdout('\nEvery node already runs this version.\n');
      return code;
    }
    if (applied) {
      stdout(
        `\nThe change keeps epoch ${epoch}: applied without a restart, node by node:\n${describeApply(applied)}`,
      );
      return Math.max(code, applyCode);
    }
    if (reloadable) {
      stdout('\nStored, not applied (--no-apply): `halo config apply` applies it without a restart.\n');
      return code;
    }
    if (keepsEpoch) {
      const missing = unreachable.map((r) => r.node).join(', ');
      stdout(
        `\nThe change keeps epoch ${epoch}, but ${missing} did not get it: copy ${file} there by hand, then run \`halo config apply\` (no restart needed).\n`,
      );
      return code;
    }
    stdout(`\n${await restartPlan(next, clients, reports, file)}`);
    return code;
  },
};

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new HaloError(
      'HALO_E_CONFIG_READ',
      `${file}: cannot read the configuration file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      { file },
    );
  }
}

async function push(
  node: string,
  api: ApiClient,
  yaml: string,
  epoch: string,
  dryRun: boolean,
): Promise<NodeReport> {
  try {
    const r = await api.request<PushResult>('PUT', '/v1/config', {
      yaml,
      epoch,
      ...(dryRun ? { dryRun } : {}),
    });
    return {
      node,
      outcome: r.changed ? 'stored' : 'unchanged',
      runningEpoch: r.runningEpoch,
      storedEpoch: r.storedEpoch,
      pending: r.pending,
      reloadable: r.reloadable,
    };
  } catch (err) {
    const e = isHaloError(err)
      ? { code: err.code, message: err.message }
      : { code: 'HALO_E_INTERNAL', message: String(err) };
    return { node, outcome: e.code === 'HALO_E_AGENT_UNREACHABLE' ? 'unreachable' : 'failed', error: e };
  }
}

function describe(r: NodeReport, wrote: boolean): string {
  switch (r.outcome) {
    case 'stored':
      return wrote ? `stored (running ${r.runningEpoch})` : `accepts it (running ${r.runningEpoch})`;
    case 'unchanged':
      return `already stored (running ${r.runningEpoch})`;
    case 'unreachable':
      return `unreachable: ${r.error?.message ?? ''}`;
    case 'failed':
      return `failed: ${r.error?.code}: ${r.error?.message.replace(/\n/g, '\n    ')}`;
  }
}

/**
 * Nodes that own no group first, owners last, the witness at the end. Moving groups away
 * first cannot help: a node on the new version has no quorum until a majority runs it, so
 * the groups stop and start once, when the owner restarts (about a lease plus start time).
 */
async function restartPlan(
  config: HaloConfig,
  clients: Array<{ node: string; api: ApiClient }>,
  reports: NodeReport[],
  file: string,
): Promise<string> {
  const owners = new Map<string, string[]>();
  for (const c of clients) {
    if (reports.find((r) => r.node === c.node)?.outcome === 'unreachable') continue;
    try {
      const s = await c.api.request<{ groups: Array<{ name: string; owner: string | null }> }>(
        'GET',
        '/v1/status?peers=0',
      );
      for (const g of s.groups) if (g.owner) owners.set(g.owner, [...(owners.get(g.owner) ?? []), g.name]);
      break;
    } catch {
      // Ask the next node.
    }
  }
  const standbys = config.nodes.filter((n) => !owners.has(n.name)).map((n) => n.name);
  const owning = config.nodes.filter((n) => owners.has(n.name)).map((n) => n.name);
  const lines = [
    'This change needs a restart of the agents: it changes what they coordinate on. Until then',
    '`halo status` shows config.pending. Restart one at a time, each once the previous one is up again:',
  ];
  let step = 1;
  if (standbys.length > 0) lines.push(`  ${step++}. the nodes that own no group: ${standbys.join(', ')}`);
  if (owning.length > 0) {
    const what = owning.map((n) => `${n} (${owners.get(n)!.join(', ')})`).join(', ');
    lines.push(
      `  ${step++}. then the owners: ${what}. Their groups stop, and start again once a majority`,
      '     of voters runs the new version (about one lease plus the start time).',
    );
  }
  const missing = reports.filter((r) => r.outcome === 'unreachable').map((r) => r.node);
  if (missing.length > 0)
    lines.push(
      `  ${step++}. ${missing.join(', ')} did not get it: copy ${file} there by hand before restarting them.`,
    );
  if (config.witness)
    lines.push(
      `  ${step++}. last the witness, with the same file: copy ${file} to it and restart \`halo witness\`.`,
    );
  lines.push(
    "Nodes on different versions do not count each other's votes (status: peer down, droppedMessages",
    'wrong-epoch). To go back, put FILE.prev back in place on every node and restart the same way.',
    '',
  );
  return lines.join('\n');
}
