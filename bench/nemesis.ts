import { writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, release, totalmem } from 'node:os';
import { Nemesis, type NemesisReport } from '../test/lab-kit/nemesis.js';
import { FAULT_KINDS, type FaultKind } from '../test/lab-kit/nemesis-faults.js';
import { nemesisProblems } from '../test/lab-kit/nemesis-verdict.js';
import { benchArgs, intArg } from './args.js';
import { fmtMs, markdownTable, summarize } from './stats.js';

/**
 * `npm run test:nemesis -- --rounds N [--seed S] [--faults a,b] [--out FILE]`: random fault rounds on a lab
 * cluster (test/lab-kit/nemesis.ts). Progress goes to stderr, the markdown summary to stdout (and
 * FILE). Exits 1 when the checker saw two VIP holders, an acknowledged write is missing from the
 * shared file, or a round did not converge. The lab removes its namespaces and processes on
 * any exit, Ctrl-C included (test/lab-kit/cleanup.ts).
 */

const args = benchArgs({
  command: 'npm run test:nemesis --',
  summary: 'Random fault rounds on a lab cluster; exits 1 when a safety check fails.',
  options: {
    rounds: { type: 'string', default: '20', description: 'Fault rounds.', valueName: 'N' },
    seed: { type: 'string', description: 'Random seed (default: random).', valueName: 'S' },
    out: { type: 'string', description: 'Also write the summary to FILE.', valueName: 'FILE' },
    faults: {
      type: 'string',
      description: 'Comma-separated fault kinds, run in this order round after round (default: random).',
      valueName: 'LIST',
    },
  },
});
const rounds = intArg('bench:nemesis', 'rounds', args.rounds);
const sequence = (args.faults ?? '').split(',').filter(Boolean) as FaultKind[];
const unknown = sequence.filter((k) => !FAULT_KINDS.includes(k));
if (unknown.length > 0) {
  process.stderr.write(`unknown fault kind(s) ${unknown.join(', ')}; expected: ${FAULT_KINDS.join(', ')}\n`);
  process.exit(2);
}
const seed = args.seed !== undefined ? Number(args.seed) : Math.floor(Math.random() * 2 ** 31);
const log = (msg: string) => process.stderr.write(`${msg}\n`);

const startedAt = new Date();
log(`nemesis: ${rounds} rounds, seed ${seed}`);
const nemesis = new Nemesis({ rounds, seed, log, ...(sequence.length > 0 ? { sequence } : {}) });
// The machine's load belongs next to the numbers: lease timing on a starved CPU is another test.
const loads: number[] = [loadavg()[0]!];
const loadSampler = setInterval(() => loads.push(loadavg()[0]!), 10_000);
const report = await nemesis.run();
clearInterval(loadSampler);
loads.push(loadavg()[0]!);
const summary = render(report);
process.stdout.write(`${summary}\n`);
if (args.out) writeFileSync(args.out, `${summary}\n`);
process.exit(verdict(report).length === 0 ? 0 : 1);

function verdict(r: NemesisReport): string[] {
  return nemesisProblems(r, rounds);
}

/** Rounds whose one fault episode changed ownership more than once, by fault kind. */
function flapping(r: NemesisReport): string {
  const counts = new Map<string, number>();
  for (const x of r.rounds) if (x.ownershipChanges > 1) counts.set(x.kind, (counts.get(x.kind) ?? 0) + 1);
  return counts.size === 0 ? 'none' : [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}

function render(r: NemesisReport): string {
  const cpu = cpus();
  const rows = FAULT_KINDS.map((kind) => {
    const of = r.rounds.filter((x) => x.kind === kind);
    const down = summarize(of.map((x) => x.downtimeMs));
    const conv = summarize(of.map((x) => x.convergedMs));
    const moved = summarize(of.filter((x) => x.movedMs !== null).map((x) => x.movedMs));
    return [
      kind,
      String(of.length),
      String(of.reduce((n, x) => n + x.ownershipChanges, 0)),
      String(of.filter((x) => x.ownershipChanges > 0).length),
      String(Math.max(0, ...of.map((x) => x.ownershipChanges))),
      String(of.filter((x) => x.ownerAfter !== null && x.ownerAfter !== x.ownerBefore).length),
      fmtMs(down.p50),
      fmtMs(down.p95),
      fmtMs(down.max),
      fmtMs(moved.p50),
      fmtMs(moved.max),
      fmtMs(conv.p50),
      fmtMs(conv.max),
    ];
  });
  const w = r.writes;
  const problems = verdict(r);
  const failed = Object.entries(w.failedBy)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return [
    `### Nemesis run ${startedAt.toISOString().slice(0, 10)}`,
    '',
    `- command: \`npm run test:nemesis -- --rounds ${rounds}${args.seed !== undefined ? ` --seed ${seed}` : ''}${args.faults ? ` --faults ${args.faults}` : ''}\` (seed ${seed})`,
    `- machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()} (${hostname()})`,
    `- load average (1 min, sampled every 10 s): ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
    `- started ${startedAt.toISOString()}, ran ${(r.durationMs / 60_000).toFixed(1)} min, ${r.rounds.length} rounds`,
    `- split-brain checker: every address event and ${r.samples} samples at 10 ms, **${r.splitBrain.length} with two holders**`,
    `- writes: ${w.attempted} attempted, **${w.acked} acknowledged, ${w.lost.length} lost**, ${w.duplicated.length} duplicated, ${w.storedUnacked} stored without acknowledgement; failed attempts: ${failed || 'none'}`,
    `- ownership changes: ${r.rounds.reduce((n, x) => n + x.ownershipChanges, 0)} in total (every acquisition counts, a node re-acquiring a group it just lost too)`,
    `- rounds with more than one ownership change: ${flapping(r)}`,
    `- verdict: ${problems.length === 0 ? 'PASS' : `FAIL (${problems.join('; ')})`}`,
    '',
    markdownTable(
      [
        'fault',
        'rounds',
        'ownership changes',
        'rounds with a change',
        'max in one round',
        'owner moved',
        'downtime p50',
        'p95',
        'max',
        'VIP moved p50',
        'max',
        'heal → converged p50',
        'max',
      ],
      rows,
    ),
  ].join('\n');
}
