import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** Each built benchmark answers --help with usage and options, exit 0, and starts no lab. */
for (const bench of ['failover', 'footprint', 'nemesis', 'scale']) {
  test(`bench/${bench} --help prints usage and options and exits 0`, () => {
    const file = fileURLToPath(new URL(`../../bench/${bench}.js`, import.meta.url));
    const r = spawnSync(process.execPath, [file, '--help'], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^usage: /);
    assert.match(r.stdout, /\nOptions:\n/);
    assert.match(r.stdout, /-h, --help/);
    assert.equal(r.stderr, '');
  });
}

test('a benchmark given an unknown option exits 2 with its usage', () => {
  const file = fileURLToPath(new URL('../../bench/footprint.js', import.meta.url));
  const r = spawnSync(process.execPath, [file, '--bogus'], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown option '--bogus'[\s\S]*usage: /);
});

test('a benchmark given a bad number exits 2 naming the option, before any lab is built', () => {
  for (const [bench, args, expected] of [
    ['footprint', ['--seconds', 'ten'], /bench:footprint: --seconds expects a positive integer, got "ten"/],
    ['footprint', ['--warmup=-1'], /bench:footprint: --warmup expects an integer ≥ 0, got "-1"/],
    ['scale', ['--groups', '1,x'], /bench:scale: --groups expects a positive integer, got "x"/],
    ['failover', ['--trials', '0'], /bench:failover: --trials expects a positive integer, got "0"/],
    ['nemesis', ['--rounds', '2.5'], /bench:nemesis: --rounds expects a positive integer, got "2.5"/],
  ] as const) {
    const file = fileURLToPath(new URL(`../../bench/${bench}.js`, import.meta.url));
    const r = spawnSync(process.execPath, [file, ...args], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 2, `${bench} ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, expected);
  }
});
