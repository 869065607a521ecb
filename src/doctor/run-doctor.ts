import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { HaloConfig, NodeConfig } from '../config/model.js';
import { HaloError } from '../errors.js';
import { checkAws } from './aws.js';
import { checkBinaries, checkSetpriv } from './binaries.js';
import { checkClockSync } from './clock-sync.js';
import { execProgram, readSmallFile } from './exec.js';
import { checkKeepaliveSysctls, readKeepaliveSysctls } from './keepalive-sysctl.js';
import { peerResult, peerResultsFromStatus, probePeers, probeTargets } from './peers.js';
import { checkApiPort, checkPeerPort, probeLocalAgent, tryBindTcp, tryBindUdp } from './ports.js';
import { checkSecretFiles } from './secret-files.js';
import { checkStateDir } from './state-dir.js';
import type { CheckResult, CheckStatus, DoctorReport, ExecFn } from './types.js';

export interface DoctorOptions {
  config: HaloConfig;
  /** This node's name; default: the node whose address is on this machine. */
  node?: string | undefined;
  token?: string | undefined;
  exec?: ExecFn;
  readFile?: (path: string) => string | undefined;
  /** How long to wait for peers' answers (default 1.5 s, at least 3 heartbeats). */
  probeMs?: number;
  /** The agent's state directory (default /var/lib/halo/NODE, as `halo agent`). */
  stateDir?: string | undefined;
}

/** The node doctor runs for: `--node`, else the only configured node with a local address. */
export function pickNode(config: HaloConfig, node?: string, local = localAddresses()): NodeConfig {
  if (node !== undefined) {
    const found = config.nodes.find((n) => n.name === node);
    if (!found)
      throw new HaloError(
        'HALO_E_USAGE',
        `node "${node}" is not in ${config.file}; expected one of: ${config.nodes.map((n) => n.name).join(', ')}`,
      );
    return found;
  }
  const mine = config.nodes.filter((n) => local.has(n.address));
  if (mine.length === 1) return mine[0]!;
  throw new HaloError(
    'HALO_E_USAGE',
    mine.length === 0
      ? 'no node of the config has an address on this machine: pass --node NAME'
      : `several nodes of the config have an address here (${mine.map((n) => n.name).join(', ')}): pass --node NAME`,
  );
}

function localAddresses(): Set<string> {
  return new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)));
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const { config } = opts;
  const self = pickNode(config, opts.node);
  const exec = opts.exec ?? execProgram;
  const readFile = opts.readFile ?? readSmallFile;
  const probeMs = opts.probeMs ?? Math.max(1500, 3 * config.cluster.timing.heartbeatMs);
  const checks: CheckResult[] = [];

  checks.push(checkKeepaliveSysctls(readKeepaliveSysctls(readFile), config.cluster.keepalive));
  checks.push(await checkClockSync(exec));
  checks.push(...checkSecretFiles(config));
  checks.push(await checkStateDir(opts.stateDir ?? `/var/lib/halo/${self.name}`));

  const apiHost = config.cluster.api.host;
  const [apiBind, peerBind] = await Promise.all([
    tryBindTcp(apiHost, self.apiPort),
    tryBindUdp(self.address, self.peerPort),
  ]);
  const agent =
    apiBind === 'in-use' ? await probeLocalAgent(config, self, opts.token, 2000) : { halo: false };
  checks.push(checkApiPort(self, apiHost, apiBind, agent));
  checks.push(checkPeerPort(self, peerBind, agent));
  checks.push(...(await peerChecks(config, self, peerBind, agent.status, probeMs)));
  checks.push(...checkBinaries(config, self));
  checks.push(...checkSetpriv(config, self));
  checks.push(...(await checkAws(config, self)));

  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status]++;
  return { cluster: config.cluster.name, node: self.name, configFile: config.file, checks, summary };
}

async function peerChecks(
  config: HaloConfig,
  self: NodeConfig,
  peerBind: string,
  status: Parameters<typeof peerResultsFromStatus>[1] | undefined,
  probeMs: number,
): Promise<CheckResult[]> {
  const targets = probeTargets(config, self);
  if (targets.length === 0) return [];
  if (peerBind === 'in-use') {
    if (status) return peerResultsFromStatus(targets, status);
    return [
      {
        id: 'peers',
        title: 'Peers and witness',
        status: 'warn',
        message: 'the local agent holds the peer port, and its membership view needs the API token',
        fix: ['pass --token-file FILE (or HALO_TOKEN), or run `halo status` to see which peers are up'],
      },
    ];
  }
  if (peerBind !== 'free') return [];
  let key: Buffer;
  try {
    key = Buffer.from(readFileSync(config.cluster.secretFile, 'utf8').trim());
  } catch {
    return [
      {
        id: 'peers',
        title: 'Peers and witness',
        status: 'warn',
        message: 'not probed: the cluster key cannot be read (see the key file check)',
      },
    ];
  }
  try {
    const verdicts = await probePeers(config, self, key, targets, probeMs);
    return targets.map((t) => peerResult(t, verdicts.get(t.name) ?? { kind: 'silent' }));
  } catch (err) {
    return [
      {
        id: 'peers',
        title: 'Peers and witness',
        status: 'warn',
        message: `not probed: ${(err as Error).message}`,
      },
    ];
  }
}

/** Human output: one line per check, the fix indented under it, a summary line. */
export function renderReport(report: DoctorReport): string {
  const label: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };
  const lines = [`halo doctor: node ${report.node} of cluster ${report.cluster} (${report.configFile})`, ''];
  for (const c of report.checks) {
    lines.push(`${label[c.status]}  ${c.title}: ${c.message}`);
    if (c.status !== 'pass') {
      for (const f of c.fix ?? []) lines.push(`      fix: ${f}`);
      for (const n of c.notes ?? []) lines.push(`      note: ${n}`);
    }
  }
  const { pass, warn, fail } = report.summary;
  lines.push('', `${pass} passed, ${warn} warnings, ${fail} failed`);
  return `${lines.join('\n')}\n`;
}
