import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../test/lab-kit/exec.js';
import { Lab } from '../test/lab-kit/lab.js';
import { benchArgs, intArg } from './args.js';
import { procStat, rssMb } from './proc.js';
import { markdownTable } from './stats.js';

/**
 * `npm run bench:scale`: what one owner costs as the number of failover groups grows. One
 * lab per row (test/lab-kit/: two agents and a witness, each in its own network namespace),
 * N groups all preferred on n1. After the cluster settles (every group running on n1, then
 * `--warmup` seconds more), over a window of `--seconds`:
 *
 * - owner RSS: VmRSS of n1's agent (one process: the main thread and the coordination
 *   worker thread share it), the largest of one sample a second; the same for the witness.
 *   Reported apart: the largest sample from n1's start to the end of the warm-up (the cold
 *   start: with 1,000 groups the owner peaks ~20 MB above its steady state while it starts
 *   them, and V8 and malloc take some 20 s to give that back);
 * - owner CPU: utime + stime of n1's agent from /proc/PID/stat (all its threads; not its
 *   children, i.e. not the deadman helper) over the window, in % of one core;
 * - lease traffic: nftables counters in n1's namespace (table `inet halo_bench`): UDP sent
 *   from the agent's peer port 7401 (hook output) and received on it (hook input), to and
 *   from n2 and the witness. The output hook sees each datagram before IP fragmentation and
 *   the input hook after reassembly, so one datagram is one packet and the kB/s are the
 *   frames' UDP payload (counter bytes − 28 per datagram: IPv4 + UDP headers), i.e. exactly
 *   what the transport hands to the kernel. Exact, and no agent code involved: the
 *   transport's own counters (datagrams only, no bytes) reach the status API and /metrics
 *   only through the embedded coordinator's view;
 * - lost leases: "lease lost: demoting" lines in n1's agent log written during the window
 *   (every lease the owner lost, whatever the reason); with `fast` timing and 1000 groups it
 *   must be 0; ownership changes: "lease acquired" lines in n2's log during the window;
 * - `--stress`: stress-ng runs one CPU hog per core for the window (and the fence trials);
 * - `--fence-trials K`: after the window, K times: SIGSTOP the owner's agent (its deadman
 *   helper keeps running), wait until the helper fenced every group at its deadline, SIGCONT,
 *   wait until the other node runs every group. Two latenesses are reported (p50/p99/max):
 *   when the helper decided to fence (its "deadline reached" lines' `lateMs`: its timer's
 *   promptness) and when each group's first action was issued (`startLateMs` of "deadline
 *   fence done": a group's stop command is a fork and exec, and the groups before it in the
 *   same batch are forked first).
 *
 * The groups' resource: one `script` resource each, `start: [true]`, `stop: [true]`, no
 * `check`. Its state is what its last start/stop recorded, so the probes every node runs at
 * start and every probeInterval (10 s) wherever a group is stopped (here: all N groups on
 * n2) spawn nothing, and starting a group is one short `true`. The alternatives cost far more
 * at 1000 groups, none of it lease work: an `ip` resource's probe spawns `ip -j addr show`
 * (and `arping -D`, 1 s, where the address is up), so n2 alone would spawn ~100 processes a
 * second, and the lab's /24 has ~50 free addresses; a `process` resource's start, stop and
 * probe scan every /proc/PID/environ of the machine (the namespaces share one PID space), so
 * 1000 `sleep`s make each of 1000 probes read 1000+ files. What is measured is therefore the
 * cost of the groups' leases and bookkeeping, not of their resources.
 */

const COMMAND = 'bench:scale';
const args = benchArgs({
  command: 'npm run bench:scale --',
  summary:
    'Owner RSS, CPU and lease traffic against the number of failover groups (two agents and a witness on a namespace lab); a markdown table on stdout.',
  options: {
    groups: {
      type: 'string',
      default: '1,100,1000',
      description: 'Group counts, one lab and one table row each.',
      valueName: 'LIST',
    },
    timing: {
      type: 'string',
      default: 'default',
      description: 'Timing profile (fast, default, relaxed).',
      valueName: 'NAME',
    },
    stress: {
      type: 'boolean',
      description:
        'Saturate every core with stress-ng (Debian stress-ng) during the window and the fence trials.',
    },
    'fence-trials': {
      type: 'string',
      default: '0',
      description:
        "After the window: SIGSTOP the owner's agent this many times; its deadman helper fences every group at its deadline, and the lateness is reported.",
      valueName: 'N',
    },
    seconds: { type: 'string', default: '30', description: 'Measuring window per row.', valueName: 'S' },
    warmup: {
      type: 'string',
      default: '30',
      description:
        "Wait after every group runs on n1, before the window (the cold start's peak is reported apart).",
      valueName: 'S',
    },
    'settle-timeout': {
      type: 'string',
      default: '300',
      description: 'Longest wait per row for every group to run on n1.',
      valueName: 'S',
    },
  },
});

const COUNTS = args.groups.split(',').map((g) => intArg(COMMAND, 'groups', g.trim()));
const FENCE_TRIALS = intArg(COMMAND, 'fence-trials', args['fence-trials'], 0);
const STRESS = args.stress === true;
const SECONDS = intArg(COMMAND, 'seconds', args.seconds);
const WARMUP_S = intArg(COMMAND, 'warmup', args.warmup, 0);
const SETTLE_S = intArg(COMMAND, 'settle-timeout', args['settle-timeout']);
const TIMING = args.timing;
const TICK_HZ = 100; // USER_HZ on Linux
const PEER_PORT = 7401; // nodes' default peerPort; the lab's config leaves it
const UDP_IPV4_HEADERS = 28;
const OWNER = 'n1';
const log = (msg: string) => process.stderr.write(`bench:scale: ${msg}\n`);

function groupsConfig(n: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let g = 1; g <= n; g++)
    out[`g${g}`] = {
      nodes: ['n1', 'n2'],
      resources: { r: { type: 'script', start: ['true'], stop: ['true'] } },
    };
  return out;
}

// ---- lease traffic: nftables counters in the owner's namespace ------------------------------

interface Traffic {
  outPackets: number;
  outBytes: number;
  inPackets: number;
  inBytes: number;
}

async function installCounters(ns: string): Promise<void> {
  await run(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], {
    input: `table inet halo_bench {
  counter lease_out { }
  counter lease_in { }
  chain output { type filter hook output priority 0; policy accept; udp sport ${PEER_PORT} counter name "lease_out"; }
  chain input { type filter hook input priority 0; policy accept; udp dport ${PEER_PORT} counter name "lease_in"; }
}
`,
  });
}

async function readCounters(ns: string): Promise<Traffic> {
  const nft = ['ip', 'netns', 'exec', ns, 'nft', '-j'];
  const r = await run([...nft, 'list', 'counters', 'table', 'inet', 'halo_bench']);
  type Counter = { name: string; packets: number; bytes: number };
  const items = (JSON.parse(r.stdout) as { nftables: Array<{ counter?: Counter }> }).nftables;
  const get = (name: string): Counter => {
    const found = items.find((i) => i.counter?.name === name)?.counter;
    if (!found) throw new Error(`nft counter ${name} missing in ${ns}`);
    return found;
  };
  const o = get('lease_out');
  const i = get('lease_in');
  return { outPackets: o.packets, outBytes: o.bytes, inPackets: i.packets, inBytes: i.bytes };
}

// ---- one row ----------------------------------------------------------------------------------

interface Row {
  groups: number;
  ownerRssMb: number;
  /** Largest owner RSS sample from its start to the end of the warm-up. */
  coldStartRssMb: number;
  ownerCpu: number;
  sentKBs: number;
  receivedKBs: number;
  datagramsPerS: number;
  witnessRssMb: number;
  lost: number;
  /** Demotes on the owner before the window (while settling). */
  lostWhileSettling: number;
  notOnOwnerAtEnd: number;
  /** n1's V8 heaps at the end of the window, per thread, from its /metrics ('' if unread). */
  heaps: string;
  /** n2 acquisitions during the window (ownership changes). */
  acquiredByStandby: number;
  /** Deadline fences of the forced trials: how late each was decided and started. */
  fenceLate: FenceLateness;
  n1StartS: number;
  settleS: number;
  windowS: number;
}

const countDemotes = (text: string) => text.split('lease lost: demoting').length - 1;
const countAcquired = (text: string) => text.split('"msg":"lease acquired"').length - 1;

/** The number `field` of every log line of the helper's whose msg is `msg`. */
function helperLogNumbers(text: string, msg: string, field: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(msg)) continue;
    try {
      const value = (JSON.parse(line) as Record<string, unknown>)[field];
      if (typeof value === 'number') out.push(value);
    } catch {
      // a torn line: not a sample
    }
  }
  return out;
}

/** How late the helper decided to fence (its timer fired), per group. */
const fenceDecidedLate = (text: string) =>
  helperLogNumbers(text, 'deadline reached, fencing group', 'lateMs');
/** How late the group's first fence action was issued, per group (after the fence finished). */
const fenceStartedLate = (text: string) => helperLogNumbers(text, 'deadline fence done', 'startLateMs');

/** Groups `node` reports running on itself, or 0 when its API does not answer. */
async function runningOn(lab: Lab, node: string): Promise<number> {
  try {
    const s = await lab.status(node);
    return s.groups.filter((g) => g.state === 'running' && g.owner === node).length;
  } catch {
    return 0;
  }
}

/**
 * The forced test of the deadman's timeliness: SIGSTOP the owner's agent (its helper keeps
 * running), wait until the helper fenced every group at its deadline, SIGCONT, and wait until
 * the other node runs every group; then the same on that node. Returns each fence's lateness.
 */
interface FenceLateness {
  /** When the helper's timer fired and it decided to fence, after the deadline (ms). */
  decided: number[];
  /** When the group's first action was issued, after the deadline (ms). */
  started: number[];
}

async function forcedFences(lab: Lab, n: number, trials: number): Promise<FenceLateness> {
  const late: FenceLateness = { decided: [], started: [] };
  let owner = OWNER;
  for (let trial = 1; trial <= trials; trial++) {
    const other = owner === 'n1' ? 'n2' : 'n1';
    const pid = lab.pid(owner);
    if (pid === undefined) throw new Error(`${owner}'s agent is not running`);
    const before = lab.logs(`agent-${owner}`).length;
    process.kill(pid, 'SIGSTOP');
    try {
      await lab.waitFor(
        `${owner}'s helper fencing all ${n} groups`,
        async () => fenceStartedLate(lab.logs(`agent-${owner}`).slice(before)).length >= n,
        60_000,
      );
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const text = lab.logs(`agent-${owner}`).slice(before);
    late.decided.push(...fenceDecidedLate(text));
    late.started.push(...fenceStartedLate(text));
    await lab.waitFor(
      `all ${n} groups on ${other}`,
      async () => (await runningOn(lab, other)) === n,
      120_000,
    );
    log(
      `fence trial ${trial}/${trials}: ${owner} stopped, its helper fenced ${n} groups; ${other} runs them`,
    );
    owner = other;
  }
  return late;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Groups `n1` reports running on itself, or why its API did not tell. */
async function runningOnOwner(lab: Lab): Promise<number | string> {
  try {
    const s = await lab.status(OWNER);
    return s.groups.filter((g) => g.state === 'running' && g.owner === OWNER).length;
  } catch (err) {
    return `n1's API did not answer (${(err as Error).message})`;
  }
}

async function measure(lab: Lab, n: number): Promise<Row> {
  const ownerNs = lab.ns(OWNER);
  await installCounters(ownerNs);
  await lab.startWitness();
  const t0 = Date.now();
  await lab.startAgent(OWNER);
  const n1StartS = (Date.now() - t0) / 1000;
  await lab.startAgent('n2');
  log(`${n} groups: agents started (n1 in ${n1StartS.toFixed(1)} s); waiting for all groups on n1`);
  const deadline = t0 + SETTLE_S * 1000;
  let lastReport = Date.now();
  let coldStartRss = 0;
  const sampleColdStart = () => {
    const pid = lab.pid(OWNER);
    if (pid !== undefined) coldStartRss = Math.max(coldStartRss, rssMb(pid));
  };
  // A cluster that does not settle says why: how far it got, leases lost so far, n1's size.
  const progress = (running: number | string) => {
    const pid = lab.pid(OWNER);
    const rss = pid === undefined ? 'not running' : `${rssMb(pid).toFixed(0)} MB`;
    const lost = countDemotes(lab.logs(`agent-${OWNER}`));
    const where = typeof running === 'number' ? `${running} of ${n} groups run on n1` : running;
    return `${where}; n1 lost ${lost} leases so far; n1 agent RSS ${rss}`;
  };
  for (;;) {
    sampleColdStart();
    const running = await runningOnOwner(lab);
    if (running === n) break;
    if (Date.now() > deadline) throw new Error(`not settled after ${SETTLE_S} s: ${progress(running)}`);
    if (Date.now() - lastReport >= 10_000) {
      log(`${n} groups, ${Math.round((Date.now() - t0) / 1000)} s: ${progress(running)}`);
      lastReport = Date.now();
    }
    await sleep(1000);
  }
  const settleS = (Date.now() - t0) / 1000;
  log(
    `${n} groups: all running on n1 ${settleS.toFixed(1)} s after n1 was started; ${WARMUP_S} s warm-up, then measuring ${SECONDS} s`,
  );
  const warm0 = Date.now();
  do {
    sampleColdStart();
    await sleep(Math.min(1000, Math.max(0, WARMUP_S * 1000 - (Date.now() - warm0))));
  } while (Date.now() - warm0 < WARMUP_S * 1000);

  const agent = lab.pid(OWNER);
  const witness = lab.pid('w');
  if (agent === undefined || witness === undefined) throw new Error('n1 agent or witness is not running');
  const logBefore = lab.logs(`agent-${OWNER}`).length;
  const standbyLogBefore = lab.logs('agent-n2').length;
  const ticks0 = procStat(agent)?.ticks ?? null;
  const traffic0 = await readCounters(ownerNs);
  if (STRESS) activeStress = startStress(SECONDS + 60 + FENCE_TRIALS * 120);
  const w0 = Date.now();
  let ownerRss = 0;
  let witnessRss = 0;
  while (Date.now() - w0 < SECONDS * 1000) {
    ownerRss = Math.max(ownerRss, rssMb(agent));
    witnessRss = Math.max(witnessRss, rssMb(witness));
    await sleep(Math.min(1000, Math.max(0, SECONDS * 1000 - (Date.now() - w0))));
  }
  const traffic1 = await readCounters(ownerNs);
  const ticks1 = procStat(agent)?.ticks ?? null;
  const windowS = (Date.now() - w0) / 1000;
  ownerRss = Math.max(ownerRss, rssMb(agent));
  witnessRss = Math.max(witnessRss, rssMb(witness));
  if (ticks0 === null || ticks1 === null) throw new Error('n1 agent exited during the window');
  const heaps = await ownerHeaps(lab);
  const agentLog = lab.logs(`agent-${OWNER}`);
  const onOwner = await runningOnOwner(lab);
  const acquiredByStandby = countAcquired(lab.logs('agent-n2').slice(standbyLogBefore));
  const fenceLate =
    FENCE_TRIALS > 0 ? await forcedFences(lab, n, FENCE_TRIALS) : { decided: [], started: [] };

  const outPackets = traffic1.outPackets - traffic0.outPackets;
  const inPackets = traffic1.inPackets - traffic0.inPackets;
  const sent = traffic1.outBytes - traffic0.outBytes - UDP_IPV4_HEADERS * outPackets;
  const received = traffic1.inBytes - traffic0.inBytes - UDP_IPV4_HEADERS * inPackets;
  return {
    groups: n,
    ownerRssMb: ownerRss,
    coldStartRssMb: coldStartRss,
    ownerCpu: (ticks1 - ticks0) / TICK_HZ / windowS,
    sentKBs: sent / 1000 / windowS,
    receivedKBs: received / 1000 / windowS,
    datagramsPerS: (outPackets + inPackets) / windowS,
    witnessRssMb: witnessRss,
    lost: countDemotes(agentLog.slice(logBefore)),
    lostWhileSettling: countDemotes(agentLog.slice(0, logBefore)),
    notOnOwnerAtEnd: typeof onOwner === 'number' ? n - onOwner : n,
    heaps,
    acquiredByStandby,
    fenceLate,
    n1StartS,
    settleS,
    windowS,
  };
}

/** "main 21.3/24.0 MB, coordination 9.1/11.2 MB" (used/reserved) from n1's /metrics. */
async function ownerHeaps(lab: Lab): Promise<string> {
  try {
    const { body } = await lab.api(OWNER, 'GET', '/metrics');
    const read = (name: string, thread: string) =>
      Number(new RegExp(`^${name}\\{[^}]*thread="${thread}"[^}]*\\} (\\S+)$`, 'm').exec(String(body))?.[1]);
    const mb = (v: number) => (v / 1e6).toFixed(1);
    return ['main', 'coordination']
      .map((t) => `${t} ${mb(read('halo_heap_used_bytes', t))}/${mb(read('halo_heap_size_bytes', t))} MB`)
      .join(', ');
  } catch {
    return '';
  }
}

let activeStress: { stop: () => void } | undefined;

/** stress-ng on every core (the host's PID namespace: the lab's processes compete with it). */
function startStress(seconds: number): { stop: () => void } {
  const child = spawn(
    'stress-ng',
    ['--cpu', String(availableParallelism()), '--timeout', `${seconds}s`, '--quiet'],
    {
      stdio: 'ignore',
    },
  );
  child.on('error', (err) => log(`stress-ng could not start (Debian package stress-ng): ${err.message}`));
  return { stop: () => child.kill('SIGTERM') };
}

async function row(n: number): Promise<Row> {
  const lab = await Lab.create({ nodes: ['n1', 'n2'], timing: TIMING, groups: groupsConfig(n) });
  try {
    return await measure(lab, n);
  } catch (err) {
    log(`${n} groups: ${(err as Error).message}; logs kept in ${lab.keepLogs()}`);
    throw err;
  } finally {
    activeStress?.stop();
    activeStress = undefined;
    await lab.cleanup();
  }
}

// ---- report -----------------------------------------------------------------------------------

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'cpu';
  } catch {
    return 'cpu';
  }
}

const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:scale needs root (network namespaces, nftables)');
  const started = new Date();
  const loadStart = loadavg();
  const rows: Array<Row | { groups: number; error: string }> = [];
  for (const n of COUNTS) {
    try {
      rows.push(await row(n));
    } catch (err) {
      rows.push({ groups: n, error: (err as Error).message });
    }
  }
  const loadEnd = loadavg();
  const table = markdownTable(
    [
      'groups',
      'timing',
      'owner RSS (MB)',
      'owner RSS, cold start (MB)',
      'owner CPU (% of a core)',
      'lease traffic (kB/s, owner sent+received)',
      'witness RSS',
      'lost leases',
      'ownership changes',
    ],
    rows.map((r) =>
      'error' in r
        ? [String(r.groups), TIMING, '–', '–', '–', '–', '–', 'failed (see below)', '–']
        : [
            String(r.groups),
            TIMING,
            r.ownerRssMb.toFixed(1),
            r.coldStartRssMb.toFixed(1),
            (r.ownerCpu * 100).toFixed(1),
            `${(r.sentKBs + r.receivedKBs).toFixed(1)} (${r.sentKBs.toFixed(1)} + ${r.receivedKBs.toFixed(1)})`,
            `${r.witnessRssMb.toFixed(1)} MB`,
            String(r.lost),
            String(r.acquiredByStandby),
          ],
    ),
  );
  const fenceNote = (r: Row) => {
    if (r.fenceLate.decided.length === 0) return '';
    const spread = (samples: number[]) => {
      const sorted = [...samples].sort((a, b) => a - b);
      return `p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms, max ${sorted.at(-1)} ms`;
    };
    return `; forced deadline fences (${FENCE_TRIALS} SIGSTOPs of the owner's agent): ${r.fenceLate.decided.length} fences, decided late by ${spread(r.fenceLate.decided)}; first action issued late by ${spread(r.fenceLate.started)}`;
  };
  const notes = rows.map((r) =>
    'error' in r
      ? `- ${r.groups} groups: **failed**: ${r.error}`
      : `- ${r.groups} groups: n1's agent up in ${r.n1StartS.toFixed(1)} s, all groups running on n1 ${r.settleS.toFixed(1)} s after n1 was started; ${r.datagramsPerS.toFixed(0)} datagrams/s; ${r.windowS.toFixed(1)} s window; leases lost while settling ${r.lostWhileSettling}; groups not running on n1 at the end ${r.notOnOwnerAtEnd}${r.heaps ? `; n1's heaps (used/reserved) ${r.heaps}` : ''}${fenceNote(r)}`,
  );
  const argv = process.argv.slice(2).join(' ');
  const nodeOptions = process.env['NODE_OPTIONS'] ? `, NODE_OPTIONS=${process.env['NODE_OPTIONS']}` : '';
  process.stdout.write(
    [
      `## Scale: groups on one owner (timing ${TIMING}, ${SECONDS} s window${STRESS ? ', every core saturated by stress-ng' : ''})`,
      '',
      table,
      '',
      ...notes,
      '',
      `Machine: ${availableParallelism()} × ${cpuModel()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}${nodeOptions}; load average ${fmtLoad(loadStart)} at start, ${fmtLoad(loadEnd)} at end; ${started.toISOString()}.`,
      '',
      `Command: \`npm run bench:scale${argv ? ` -- ${argv}` : ''}\``,
      '',
    ].join('\n'),
  );
  if (rows.some((r) => 'error' in r)) process.exitCode = 1;
}

await main();
