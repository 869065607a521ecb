import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lab } from '../test/lab-kit/lab.js';
import { benchArgs, intArg } from './args.js';
import { memoryMb, procStat, rssMb } from './proc.js';
import { markdownTable } from './stats.js';

/**
 * `node dist/bench/footprint.js` (target: agent footprint idle with 10 groups / 50
 * monitors ≤ 70 MB RSS and ≤ 1 % of a core; results in docs/benchmarks.md): two agents and a witness in the namespace lab,
 * 10 groups (a floating IP each, all owned by n1) with 5 TCP monitors each at their default
 * interval; after the cluster settles and a warm-up, CPU time and RSS are read from /proc over a window.
 */

const args = benchArgs({
  command: 'node dist/bench/footprint.js',
  summary: 'Idle footprint (RSS, CPU) of two agents and a witness on a namespace lab.',
  options: {
    groups: { type: 'string', default: '10', description: 'Failover groups.', valueName: 'N' },
    monitors: { type: 'string', default: '5', description: 'TCP monitors per group.', valueName: 'N' },
    seconds: { type: 'string', default: '60', description: 'Measuring window.', valueName: 'S' },
    timing: { type: 'string', default: 'default', description: 'Timing profile.', valueName: 'NAME' },
    warmup: {
      type: 'string',
      default: '5',
      description:
        'Wait after every group runs on n1, before the window (V8 still compiles and collects for minutes after a start).',
      valueName: 'S',
    },
  },
});
const COMMAND = 'bench:footprint';
const GROUPS = intArg(COMMAND, 'groups', args.groups);
const PER_GROUP = intArg(COMMAND, 'monitors', args.monitors, 0);
const SECONDS = intArg(COMMAND, 'seconds', args.seconds);
const WARMUP_S = intArg(COMMAND, 'warmup', args.warmup, 0);
const TICK_HZ = 100; // USER_HZ on Linux

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => procStat(p)?.ppid === pid);
}

/** The agent's long-lived helpers (a command the agent ran that is still alive is not one). */
function childRole(pid: number): string | null {
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return null;
  }
  if (cmdline.includes('deadman/main.js')) return 'deadman helper';
  if (cmdline.includes('launcher-main.js')) return 'command launcher';
  return null;
}

function groups(nodes: string[], servicePort: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let g = 1; g <= GROUPS; g++) {
    const monitors: Record<string, unknown> = {};
    for (let m = 1; m <= PER_GROUP; m++)
      monitors[`g${g}m${m}`] = { type: 'tcp', host: '127.0.0.1', port: servicePort, target: 'vip' };
    out[`g${g}`] = {
      nodes,
      resources: { vip: { type: 'ip', ip: `10.213.0.${200 + g}`, prefix: 32, device: 'eth0', arpCount: 1 } },
      monitors,
    };
  }
  return out;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench footprint needs root (network namespaces)');
  const nodes = ['n1', 'n2'];
  const servicePort = 8080;
  const lab = await Lab.create({
    nodes,
    servicePort,
    timing: args.timing,
    groups: groups(nodes, servicePort),
  });
  try {
    await lab.startWitness();
    await lab.startAgent('n1');
    await lab.startAgent('n2');
    await lab.waitFor(
      `all ${GROUPS} groups running on n1`,
      async () =>
        (await lab.status('n1')).groups.filter((g: { state: string }) => g.state === 'running').length ===
        GROUPS,
      60_000,
    );
    await sleep(WARMUP_S * 1000);
    const procs: Array<[string, number]> = [];
    for (const n of lab.nodes) {
      const pid = lab.pid(n)!;
      procs.push([`agent ${n}${n === 'n1' ? ' (owner)' : ' (standby)'}`, pid]);
      for (const c of childrenOf(pid)) {
        const role = childRole(c);
        if (role) procs.push([`${role} ${n}`, c]);
      }
    }
    procs.push(['witness', lab.pid('w')!]);
    const before = procs.map(([, pid]) => procStat(pid)?.ticks ?? 0);
    const maxRss = procs.map(() => 0);
    const t0 = Date.now();
    while (Date.now() - t0 < SECONDS * 1000) {
      procs.forEach(([, pid], i) => {
        maxRss[i] = Math.max(maxRss[i] ?? 0, rssMb(pid));
      });
      await sleep(1000);
    }
    const elapsed = (Date.now() - t0) / 1000;
    const rows = procs.map(([name, pid], i) => {
      const cpu = ((procStat(pid)?.ticks ?? 0) - (before[i] ?? 0)) / TICK_HZ / elapsed;
      const mem = memoryMb(pid);
      return [
        name,
        `${rssMb(pid).toFixed(1)} MB`,
        `${(maxRss[i] ?? 0).toFixed(1)} MB`,
        `${mem.pss.toFixed(1)} MB`,
        `${mem.private.toFixed(1)} MB`,
        `${(cpu * 100).toFixed(2)} %`,
      ];
    });
    process.stdout.write(
      `## Idle footprint: ${GROUPS} groups, ${GROUPS * PER_GROUP} monitors (tcp, default 10 s interval), timing ${args.timing}, ${Math.round(elapsed)} s window\n\n${markdownTable(['process', 'RSS', 'max RSS', 'PSS', 'private', 'CPU (of one core)'], rows)}\n\nCommand: \`node dist/bench/footprint.js --seconds ${SECONDS} --warmup ${WARMUP_S}${args.timing === 'default' ? '' : ` --timing ${args.timing}`}\`\n`,
    );
  } finally {
    await lab.cleanup();
  }
}

await main();
