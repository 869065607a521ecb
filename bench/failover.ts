import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabEtcd, labEtcdEndpoints } from '../test/lab-kit/etcd.js';
import { run } from '../test/lab-kit/exec.js';
import { Lab, monoMs } from '../test/lab-kit/lab.js';
import type { SplitBrainChecker } from '../test/lab-kit/split-brain.js';
import { SUBNET_PREFIX } from '../test/lab-kit/topology.js';
import { benchArgs, intArg } from './args.js';
import { fmtMs, markdownTable, summarize } from './stats.js';

/**
 * `npm run bench:failover`: client-visible downtime through the VIP in the
 * namespace lab, Halo (`fast` and `default` profiles) beside keepalived (Debian package,
 * default VRRPv2 at 1 s and VRRPv3 at 10 ms) in the same lab. Method (docs/benchmarks.md): the
 * client opens a new TCP connection to VIP:8080 every 10 ms (100 ms timeout); downtime =
 * fault → first answer from the survivor; faults are injected after a random 1–2 s of
 * steady service; a trial whose ownership moved before the fault is discarded.
 *
 * Faults: kill = SIGKILL the HA daemon only (the machine lives); crash = the owner's bridge
 * port down and every process in its namespace killed (Halo); link = bridge port down only
 * (keepalived, whose old master then keeps the VIP: that is counted as overlap); move = a
 * planned move through the API (Halo).
 *
 * `halo-etcd` (`--systems halo-etcd`): Halo with `cluster.coordination: etcd` against a
 * 3-member etcd running inside the lab (one namespace per member, test/lab-kit/etcd.ts), no
 * witness, profile `--etcd-profile` (default `default`: etcd's TTL is whole seconds, ≥ 2 s).
 * Faults kill, crash and move as above, plus etcd-leader = SIGKILL the etcd leader while the
 * group keeps running: there is no survivor to wait for, so its downtime is the longest
 * client-visible outage within the following window (0 when no probe failed), and "VIP moved" is set only
 * when the group changed owner.
 */

const args = benchArgs({
  command: 'npm run bench:failover --',
  summary: 'Failover downtime of Halo (and keepalived) on a namespace lab; a markdown table on stdout.',
  options: {
    trials: { type: 'string', default: '20', description: 'Trials per row.', valueName: 'N' },
    profiles: {
      type: 'string',
      default: 'fast,default',
      description: 'Halo timing profiles.',
      valueName: 'LIST',
    },
    systems: {
      type: 'string',
      default: 'halo,keepalived',
      description: 'Systems to measure (halo, keepalived, halo-etcd).',
      valueName: 'LIST',
    },
    'etcd-profile': {
      type: 'string',
      default: 'default',
      description: 'Timing profile for halo-etcd.',
      valueName: 'NAME',
    },
    'etcd-faults': {
      type: 'string',
      default: 'kill,crash,move,etcd-leader',
      description: 'Faults for halo-etcd.',
      valueName: 'LIST',
    },
    // etcd --election-timeout (ms); heartbeat = 1/10 of it. etcd's defaults are 1000/100.
    'etcd-election': {
      type: 'string',
      default: '1000',
      description: 'etcd election timeout (ms).',
      valueName: 'MS',
    },
    nodes: {
      type: 'string',
      default: '2',
      description:
        'Halo cluster size: 2 (two nodes + witness), or 3 or 5 nodes without a witness (every node votes; `halo` only).',
      valueName: '2|3|5',
    },
    alerts: {
      type: 'string',
      default: 'none',
      description:
        'Alert receivers of the Halo labs: none, or down (a webhook, an SMTP server and an SNMP manager at an address nobody answers, and a script that hangs), to show that delivery never delays a failover.',
      valueName: 'none|down',
    },
    out: { type: 'string', description: 'Also write the table to FILE.', valueName: 'FILE' },
  },
});
if (!['none', 'down'].includes(args.alerts)) {
  process.stderr.write(`--alerts: expected none or down, got "${args.alerts}"\n`);
  process.exit(2);
}
const TRIALS = intArg('bench:failover', 'trials', args.trials);
const NODES = Number(args.nodes);
if (![2, 3, 5].includes(NODES)) {
  process.stderr.write(`--nodes: expected 2, 3 or 5, got "${args.nodes}"\n`);
  process.exit(2);
}
const log = (msg: string) => process.stderr.write(`${msg}\n`);

interface Trial {
  downtime: number | null;
  vip: number | null;
  failedProbes: number;
  overlapSamples: number;
}

interface Row {
  system: string;
  fault: string;
  trials: Trial[];
  discarded: number;
}

const rand = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

async function steadyOwner(lab: Lab, checker: SplitBrainChecker, timeoutMs = 30_000): Promise<string> {
  return lab.waitFor(
    'one steady owner',
    async () => {
      const h = checker.holders();
      if (h.length !== 1) return false;
      const last = checker.report().changes.at(-1);
      return last && monoMs() - last.t > 300 ? h[0] : false;
    },
    timeoutMs,
  );
}

/**
 * Measures one fault: waits for the first answer from one of `survivors` (the nodes that may
 * take the group over: one in a 2-node lab or for a move, any other node in a 3- or 5-node
 * cluster), counts failures and overlap.
 */
async function measure(
  lab: Lab,
  checker: SplitBrainChecker,
  t: number,
  survivors: readonly string[],
): Promise<Trial> {
  const answered = await lab
    .waitFor(
      `an answer from ${survivors.join(' or ')}`,
      async () => (await lab.client.probeRecords(t)).find((r) => survivors.includes(r[1])),
      20_000,
    )
    .catch(() => undefined);
  const records = await lab.client.probeRecords(t);
  const end = answered?.[0] ?? monoMs();
  const held = survivors.map((s) => checker.firstHeldBy(s, t)).filter((x): x is number => x !== null);
  const vipAt = held.length > 0 ? Math.min(...held) : null;
  return {
    downtime: answered ? answered[0] - t : null,
    vip: vipAt === null ? null : vipAt - t,
    failedProbes: records.filter((r) => r[0] <= end && r[1] === '').length,
    overlapSamples: checker.report().violations.filter((v) => v.t >= t && v.t <= end + 1000).length,
  };
}

// ---- Halo -------------------------------------------------------------------------------------

/** An address inside the lab's subnet that no namespace holds: connections to it hang. */
const DEAD_RECEIVER = `${SUBNET_PREFIX}.250`;

/**
 * `--alerts down`: one receiver of each type that never delivers — a webhook, an SMTP server
 * and an SNMP manager at an address nobody answers (ARP never resolves, so every attempt runs
 * to its timeout) and a script that hangs until it is killed. Every failover alerts all four.
 */
function downReceivers(dir: string): Record<string, unknown> {
  const script = join(dir, 'hang.sh');
  writeFileSync(script, '#!/bin/sh\nexec sleep 3600\n');
  chmodSync(script, 0o755);
  return {
    'hung-script': { type: 'script', path: script, timeout: '10s' },
    'dead-webhook': { type: 'webhook', url: `http://${DEAD_RECEIVER}:8081/alert`, timeout: '10s' },
    'dead-mail': {
      type: 'smtp',
      host: DEAD_RECEIVER,
      from: 'halo@lab.test',
      to: ['ops@lab.test'],
      timeout: '10s',
    },
    'dead-trap': { type: 'snmp', host: DEAD_RECEIVER, community: 'halo' },
  };
}

/** Sum of every node's alert counters, to show the down receivers were really fed. */
async function alertCounters(lab: Lab): Promise<string> {
  const total = { sent: 0, failed: 0, dropped: 0, queued: 0 };
  for (const n of lab.nodes) {
    const s = await lab.status(n).catch(() => undefined);
    for (const r of (s?.['alerts'] as Array<Record<string, number>> | undefined) ?? [])
      for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += r[k] ?? 0;
  }
  return `sent ${total.sent}, failed ${total.failed}, dropped ${total.dropped}, queued ${total.queued}`;
}

type HaloFault = 'kill' | 'crash' | 'move' | 'etcd-leader';

/** Embedded coordination (with a witness) unless `etcdElectionMs` is given: then a lab etcd. */
async function haloBench(
  profile: string,
  faults: readonly HaloFault[] = ['kill', 'crash', 'move'],
  etcdElectionMs?: number,
): Promise<Row[]> {
  const withEtcd = etcdElectionMs !== undefined;
  const system = withEtcd
    ? `halo-etcd ${profile}${etcdElectionMs !== 1000 ? ` (etcd election ${etcdElectionMs} ms)` : ''}`
    : `halo ${profile}${NODES === 2 ? '' : ` (${NODES} nodes, no witness)`}${args.alerts === 'down' ? ', 4 alert receivers down' : ''}`;
  const alertDir = mkdtempSync(join(tmpdir(), 'halo-bench-alerts-'));
  const alerts = args.alerts === 'down' ? { alerts: downReceivers(alertDir) } : {};
  const lab = await Lab.create(
    withEtcd
      ? {
          timing: profile,
          witness: false,
          coordination: {
            type: 'etcd',
            endpoints: labEtcdEndpoints(),
            prefix: '/halo/lab',
            // Tell Halo the election timeout the lab's etcd runs with (it sizes the lease TTL).
            electionTimeout: `${etcdElectionMs}ms`,
          },
        }
      : NODES === 2
        ? { timing: profile, ...alerts }
        : {
            ...alerts,
            timing: profile,
            witness: false,
            nodes: Array.from({ length: NODES }, (_, i) => `n${i + 1}`),
            // As test/lab/multi-node.test.ts: every agent starts before the group does.
            waitForAll: '60s',
          },
  );
  const etcd = withEtcd
    ? new LabEtcd(lab, { electionMs: etcdElectionMs, heartbeatMs: Math.max(10, etcdElectionMs / 10) })
    : undefined;
  try {
    const checker = lab.watchVip();
    await checker.start();
    if (etcd) await etcd.start();
    else if (NODES === 2) await lab.startWitness();
    for (const n of lab.nodes) await lab.startAgent(n);
    await lab.client.startProbe(lab.vip, lab.servicePort);
    const rows: Row[] = [];
    for (const fault of faults) {
      const row: Row = { system, fault, trials: [], discarded: 0 };
      rows.push(row);
      for (let i = 0; i < TRIALS; i++) {
        for (const n of lab.nodes) if (lab.pid(n) === undefined) await lab.startAgent(n);
        for (const n of lab.nodes)
          await lab.waitFor(`${n} out of quarantine`, async () => !(await lab.status(n)).quarantined, 30_000);
        const owner = await steadyOwner(lab, checker);
        const others = lab.nodes.filter((n) => n !== owner);
        const survivor = others[0]!;
        const settledAt = monoMs();
        await sleep(rand(1000, 2000));
        const changed = checker.report().changes.some((c) => c.t >= settledAt);
        let t: number;
        let etcdLeader = '';
        if (fault === 'kill') t = await lab.signal(owner, 'SIGKILL');
        else if (fault === 'crash') t = await lab.crashNode(owner);
        else if (fault === 'etcd-leader') {
          if (!etcd) throw new Error('the etcd-leader fault needs --systems halo-etcd');
          etcdLeader = await etcd.leader();
          t = await etcd.kill(etcdLeader);
        } else {
          t = monoMs();
          const res = await lab.api(owner, 'POST', '/v1/groups/vip/move', { to: survivor });
          if (res.status >= 300) throw new Error(`move refused: ${res.status} ${JSON.stringify(res.body)}`);
        }
        const trial =
          fault === 'etcd-leader'
            ? await measureOutage(lab, checker, t, survivor, 2 * (etcdElectionMs ?? 1000) + 5000)
            : await measure(lab, checker, t, fault === 'move' ? [survivor] : others);
        if (changed) row.discarded++;
        else row.trials.push(trial);
        log(
          `${system} ${fault}${etcdLeader ? ` (${etcdLeader})` : ''} #${i + 1}: downtime ${fmtMs(trial.downtime)}, VIP ${fmtMs(trial.vip)}, failed probes ${trial.failedProbes}, overlap ${trial.overlapSamples}${changed ? ' (discarded: moved before the fault)' : ''}`,
        );
        if (fault === 'crash') await lab.powerOn(owner);
        if (etcd && etcdLeader) await etcd.restart(etcdLeader);
      }
    }
    if (args.alerts === 'down') log(`${system}: alert counters of all nodes: ${await alertCounters(lab)}`);
    return rows;
  } finally {
    await etcd?.stop().catch(() => {});
    await lab.cleanup();
    rmSync(alertDir, { recursive: true, force: true });
  }
}

/**
 * A fault after which the owner may keep the group (etcd leader killed): watches a fixed
 * window; downtime = the longest outage in it (0 when no probe failed), see longestOutage;
 * `vip` is set only if the survivor took the VIP over.
 */
async function measureOutage(
  lab: Lab,
  checker: SplitBrainChecker,
  t: number,
  survivor: string,
  windowMs: number,
): Promise<Trial> {
  await sleep(windowMs);
  let end = t + windowMs;
  const inWindow = (await lab.client.probeRecords(t)).filter((r) => r[0] <= end);
  const lastFail = inWindow.findLast((r) => r[1] === '');
  // An outage that began inside the window counts to its end, even past the window.
  const recovered = lastFail
    ? await lab
        .waitFor(
          'the service back',
          async () => (await lab.client.probeRecords(lastFail[0])).find((r) => r[1] !== ''),
          20_000,
        )
        .catch(() => undefined)
    : undefined;
  if (recovered) end = Math.max(end, recovered[0]);
  // From the last answer before the fault, so an outage that began with it is counted whole.
  const records = (await lab.client.probeRecords(t - 1000)).filter((r) => r[0] <= end);
  const vipAt = checker.firstHeldBy(survivor, t);
  return {
    downtime: lastFail && !recovered ? null : longestOutage(records, t),
    vip: vipAt === null || vipAt > end ? null : vipAt - t,
    failedProbes: records.filter((r) => r[0] >= t && r[1] === '').length,
    overlapSamples: checker.report().violations.filter((v) => v.t >= t && v.t <= end + 1000).length,
  };
}

/**
 * The longest stretch without an answer that ends after `t`: last answer before a run of
 * failed probes → first answer after it (0 when no probe failed). A lone probe lost to a
 * loaded machine then counts as ~100 ms, not as the time since the fault.
 */
function longestOutage(records: ReadonlyArray<readonly [number, string]>, t: number): number {
  let lastOk: number | null = null;
  let failing = false;
  let longest = 0;
  for (const [at, who] of records) {
    if (who === '') {
      failing = true;
      continue;
    }
    if (failing && lastOk !== null && at >= t) longest = Math.max(longest, at - lastOk);
    lastOk = at;
    failing = false;
  }
  return longest;
}

// ---- keepalived -------------------------------------------------------------------------------

interface Vrrp {
  name: string;
  version: 2 | 3;
  advert: string;
}

function keepalivedConf(lab: Lab, node: string, v: Vrrp, priority: number): string {
  return `global_defs {
  router_id ${node}
  vrrp_version ${v.version}
}
vrrp_instance VI_1 {
  state BACKUP
  nopreempt
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int ${v.advert}
  virtual_ipaddress {
    ${lab.vip}/32 dev eth0
  }
}
`;
}

let starts = 0;

/**
 * Fresh pid files per start: a killed keepalived's VRRP child may linger as a zombie (PID 1
 * here does not reap), and keepalived would then refuse to start ("already running").
 */
async function startKeepalived(lab: Lab, node: string, v: Vrrp, priority: number): Promise<void> {
  starts++;
  const conf = join(lab.dir, `keepalived-${node}.conf`);
  const log = `keepalived-${node}-${starts}`;
  writeFileSync(conf, keepalivedConf(lab, node, v, priority));
  lab.spawnService(node, log, [
    'keepalived',
    '-f',
    conf,
    '-p',
    join(lab.dir, `keepalived-${node}-${starts}.pid`),
    '-r',
    join(lab.dir, `vrrp-${node}-${starts}.pid`),
    '--vrrp',
    '--dont-fork',
    '--log-console',
    '--no-syslog',
    '--dont-respawn',
  ]);
  await lab.waitFor(
    `keepalived on ${node} in a VRRP state`,
    () => /Entering (BACKUP|MASTER) STATE/.test(lab.logs(log)),
    15_000,
  );
}

/** SIGKILLs every keepalived process (parent and VRRP child) in the node's namespace. */
async function killKeepalived(lab: Lab, node: string): Promise<number> {
  const t = monoMs();
  for (const pid of await lab.pidsIn(node)) {
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {}
    if (comm === 'keepalived') {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
  return t;
}

async function keepalivedBench(v: Vrrp): Promise<Row[]> {
  const lab = await Lab.create({});
  try {
    const checker = lab.watchVip();
    await checker.start();
    const prio = (n: string) => (n === 'n1' ? 150 : 100);
    for (const n of lab.nodes) await startKeepalived(lab, n, v, prio(n));
    await lab.client.startProbe(lab.vip, lab.servicePort);
    const rows: Row[] = [];
    for (const fault of ['kill', 'link'] as const) {
      const row: Row = { system: `keepalived ${v.name}`, fault, trials: [], discarded: 0 };
      rows.push(row);
      for (let i = 0; i < TRIALS; i++) {
        const owner = await steadyOwner(lab, checker);
        const survivor = lab.nodes.find((n) => n !== owner)!;
        const settledAt = monoMs();
        await sleep(rand(1000, 2000));
        const changed = checker.report().changes.some((c) => c.t >= settledAt);
        const t = fault === 'kill' ? await killKeepalived(lab, owner) : await lab.linkDown(owner);
        const trial = await measure(lab, checker, t, [survivor]);
        if (changed) row.discarded++;
        else row.trials.push(trial);
        log(
          `keepalived ${v.name} ${fault} #${i + 1}: downtime ${fmtMs(trial.downtime)}, VIP ${fmtMs(trial.vip)}, failed probes ${trial.failedProbes}${changed ? ' (discarded)' : ''}`,
        );
        // Restore: the old master keeps the VIP after either fault (no quorum, no self-fencing).
        if (fault === 'kill') {
          await run(['ip', '-n', lab.ns(owner), 'addr', 'del', `${lab.vip}/32`, 'dev', 'eth0'], {
            allowFail: true,
          });
          await startKeepalived(lab, owner, v, prio(owner));
        } else {
          await lab.linkUp(owner);
        }
        await sleep(500);
      }
    }
    return rows;
  } finally {
    await lab.cleanup();
  }
}

// ---- main -------------------------------------------------------------------------------------

function table(rows: Row[]): string {
  return markdownTable(
    [
      'system',
      'fault',
      'trials',
      'downtime p50',
      'p95',
      'max',
      'VIP moved p50',
      'failed probes (mean)',
      'samples with 2 holders',
    ],
    rows.map((r) => {
      const d = summarize(r.trials.map((x) => x.downtime));
      const vip = summarize(r.trials.map((x) => x.vip));
      const failed = r.trials.reduce((a, x) => a + x.failedProbes, 0) / Math.max(1, r.trials.length);
      const overlap = r.trials.reduce((a, x) => a + x.overlapSamples, 0);
      return [
        r.system,
        r.fault,
        `${r.trials.length}${r.discarded ? ` (+${r.discarded} discarded)` : ''}${d.missing ? `, ${d.missing} never served` : ''}`,
        fmtMs(d.p50),
        fmtMs(d.p95),
        fmtMs(d.max),
        fmtMs(vip.p50),
        failed.toFixed(1),
        String(overlap),
      ];
    }),
  );
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:failover needs root (network namespaces)');
  const systems = args.systems.split(',');
  if (NODES !== 2 && systems.some((s) => s !== 'halo'))
    throw new Error(
      '--nodes 3|5 measures --systems halo only (keepalived and halo-etcd labs have two nodes)',
    );
  const rows: Row[] = [];
  if (systems.includes('halo')) for (const p of args.profiles.split(',')) rows.push(...(await haloBench(p)));
  if (systems.includes('halo-etcd')) {
    const faults = args['etcd-faults'].split(',');
    const known = ['kill', 'crash', 'move', 'etcd-leader'];
    for (const f of faults) if (!known.includes(f)) throw new Error(`--etcd-faults: unknown fault "${f}"`);
    rows.push(
      ...(await haloBench(args['etcd-profile'], faults as HaloFault[], Number(args['etcd-election']))),
    );
  }
  if (systems.includes('keepalived')) {
    rows.push(...(await keepalivedBench({ name: 'VRRPv2 1 s', version: 2, advert: '1' })));
    rows.push(...(await keepalivedBench({ name: 'VRRPv3 10 ms', version: 3, advert: '0.01' })));
  }
  const cpus = readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d)).length;
  // The default run keeps its historical command line; others show the flags as given.
  const command = args.systems === 'halo,keepalived' ? `--trials ${TRIALS}` : process.argv.slice(2).join(' ');
  const out = `## Failover downtime (${new Date().toISOString().slice(0, 10)}, ${cpus} vCPU, ${TRIALS} trials per row)\n\n${table(rows)}\n\nCommand: \`npm run bench:failover -- ${command}\`\n`;
  process.stdout.write(`${out}\n`);
  if (args.out) writeFileSync(args.out, out);
}

await main();
