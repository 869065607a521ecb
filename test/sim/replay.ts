/**
 * Replays one seeded lease-simulator schedule and prints it.
 *
 *   node <out>/test/sim/replay.js --seed N [--profile fast|default|relaxed] [--batched] [--verbose]
 *
 * Prints the schedule (cluster, clocks, faults), the trace (faults, boots, acquisitions,
 * demotions; with --verbose every delivered message too), and the failed checks.
 * Exit code 0 when the schedule passes, 1 when a check fails, 2 on bad arguments.
 */
import type { TimingProfileName } from '../../src/config/model.js';
import { runSchedule } from './schedules.js';

const PROFILES: readonly TimingProfileName[] = ['fast', 'default', 'relaxed'];

function usage(problem: string): never {
  process.stderr.write(
    `${problem}\nusage: replay.js --seed N [--profile fast|default|relaxed] [--batched] [--verbose]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: readonly string[]): {
  seed: number;
  profile: TimingProfileName;
  verbose: boolean;
  batched: boolean;
} {
  let seed: number | null = null;
  let profile: TimingProfileName = 'fast';
  let verbose = false;
  let batched = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--seed') {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v)) usage('--seed needs an integer');
      seed = v;
    } else if (arg === '--profile') {
      const v = argv[++i] as TimingProfileName;
      if (!PROFILES.includes(v)) usage(`--profile must be one of ${PROFILES.join(', ')}`);
      profile = v;
    } else if (arg === '--batched') {
      batched = true;
    } else if (arg === '--verbose' || arg === '-v') {
      verbose = true;
    } else {
      usage(`unknown argument ${arg}`);
    }
  }
  if (seed === null) usage('--seed is required');
  return { seed, profile, verbose, batched };
}

const args = parseArgs(process.argv.slice(2));
const result = runSchedule(args.seed, {
  profile: args.profile,
  trace: true,
  verbose: args.verbose,
  batched: args.batched,
});
const out: string[] = [`seed ${result.seed}`, ...result.description.map((l) => `  ${l}`), '', 'trace:'];
out.push(...result.trace, '');
out.push(`${result.acquisitions} acquisitions, ${result.deliveries} messages delivered`);
if (result.failures.length === 0) out.push('PASS');
else out.push('FAIL', ...result.failures.map((f) => `  ${f}`));
process.stdout.write(`${out.join('\n')}\n`);
process.exitCode = result.failures.length === 0 ? 0 : 1;
