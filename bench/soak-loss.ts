import { runLossSoak } from '../test/lab-kit/loss-soak.js';
import { benchArgs } from './args.js';

/**
 * `npm run soak:loss -- --minutes 10`: two nodes and a witness for N minutes with loss,
 * duplication and reordering on every voter path (a userspace relay, test/lab-kit/udp-relay.ts:
 * this kernel has no netem), sampling the VIP for two holders every 10 ms. Prints one result
 * row (markdown) on stdout; exits 1 when any sample saw two holders. Needs root (the lab).
 */

const args = benchArgs({
  command: 'npm run soak:loss --',
  summary:
    'Loss + duplication + reordering on every voter path of 2 nodes + witness for N minutes; counts two-holder samples, ownership changes and lost leases.',
  options: {
    minutes: { type: 'string', default: '10', description: 'Duration.', valueName: 'N' },
    loss: { type: 'string', default: '0.1', description: 'Fraction of datagrams dropped.', valueName: 'F' },
    duplicate: {
      type: 'string',
      default: '0.1',
      description: 'Fraction of datagrams sent twice.',
      valueName: 'F',
    },
    reorder: {
      type: 'string',
      default: '0.1',
      description: 'Fraction of datagrams held back 20 ms (later ones overtake them).',
      valueName: 'F',
    },
    delay: { type: 'string', default: '2', description: 'Fixed delay per datagram (ms).', valueName: 'MS' },
    jitter: {
      type: 'string',
      default: '10',
      description: 'Uniform jitter per datagram (ms).',
      valueName: 'MS',
    },
    profile: { type: 'string', default: 'fast', description: 'Halo timing profile.', valueName: 'NAME' },
  },
});

const num = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${name}: expected a number ≥ 0, got "${v}"\n`);
    process.exit(2);
  }
  return n;
};

const minutes = num('minutes', args.minutes);
const result = await runLossSoak({
  durationMs: minutes * 60_000,
  loss: num('loss', args.loss),
  duplicate: num('duplicate', args.duplicate),
  reorder: num('reorder', args.reorder),
  delayMs: num('delay', args.delay),
  jitterMs: num('jitter', args.jitter),
  timing: args.profile,
  log: (msg) => process.stderr.write(`${msg}\n`),
});
const relayed = Object.values(result.relays).reduce(
  (a, s) => ({
    received: a.received + s.received,
    dropped: a.dropped + s.dropped,
    duplicated: a.duplicated + s.duplicated,
    reordered: a.reordered + s.reordered,
  }),
  { received: 0, dropped: 0, duplicated: 0, reordered: 0 },
);
process.stdout.write(
  [
    '| duration | profile | loss / dup / reorder / delay | datagrams relayed (dropped, duplicated, reordered) | samples | two-holder samples | acquisitions | lost leases | VIP gaps |',
    '|---|---|---|---|---|---|---|---|---|',
    `| ${(result.durationMs / 60_000).toFixed(1)} min | ${args.profile} | ${args.loss} / ${args.duplicate} / ${args.reorder} / ${args.delay}+${args.jitter} ms | ${relayed.received} (${relayed.dropped}, ${relayed.duplicated}, ${relayed.reordered}) | ${result.samples} | ${result.twoHolderSamples} | ${result.ownershipChanges.length}${result.ownershipChanges.length ? ` (${result.ownershipChanges.join(', ')})` : ''} | ${result.lostLeases} | ${result.vipGaps} |`,
    '',
  ].join('\n'),
);
if (result.twoHolderSamples > 0) {
  process.stderr.write(`two holders: ${JSON.stringify(result.violations)}\n`);
  process.exitCode = 1;
}
