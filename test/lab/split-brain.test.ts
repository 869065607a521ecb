import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../lab-kit/exec.js';
import { monoMs } from '../lab-kit/lab.js';
import { createNamespace, nextLabPrefix, removeNamespace } from '../lab-kit/netns.js';
import { type HolderChange, SplitBrainChecker } from '../lab-kit/split-brain.js';
import { skipWithoutLab } from './support.js';

/**
 * Positive and negative controls for the split-brain checker every lab scenario relies on:
 * two real node namespaces (and a third where the checker's observer runs), the VIP planted on both with `ip addr add` for a few
 * milliseconds or for 200 ms, and a clean handover that never overlaps. A checker that does
 * not record (or records only by sampling, which misses short overlaps) fails here.
 */

const VIP = '10.213.0.200';

interface Pair {
  a: string;
  b: string;
  checker: SplitBrainChecker;
}

/** Two node namespaces `a` and `b`, each with an `eth0`, watched by a started checker. */
async function pair(t: TestContext): Promise<Pair> {
  const prefix = nextLabPrefix();
  const a = `${prefix}n1`;
  const b = `${prefix}n2`;
  const observer = `${prefix}sw`;
  const checker = new SplitBrainChecker(
    [
      { name: 'n1', ns: a },
      { name: 'n2', ns: b },
    ],
    VIP,
    { observerNs: observer },
  );
  t.after(async () => {
    await checker.stop();
    for (const ns of [a, b, observer]) await removeNamespace(ns);
  });
  await createNamespace(observer);
  for (const ns of [a, b]) {
    await createNamespace(ns);
    await run(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
    await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  }
  await checker.start();
  return { a, b, checker };
}

const addVip = (ns: string) => run(['ip', '-n', ns, 'addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
const delVip = (ns: string) => run(['ip', '-n', ns, 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);

/** Waits until the checker's view of the holders is exactly `holders`. */
async function seen(checker: SplitBrainChecker, holders: string[]): Promise<number> {
  const deadline = Date.now() + 20_000;
  while (JSON.stringify(checker.holders()) !== JSON.stringify(holders)) {
    if (Date.now() > deadline) assert.fail(`the checker never saw holders ${JSON.stringify(holders)}`);
    await sleep(1);
  }
  return monoMs();
}

/** Waits until the checker has taken in `count` address events in all. */
async function eventsSeen(checker: SplitBrainChecker, count: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  while (checker.report().events < count) {
    if (Date.now() > deadline) assert.fail(`the checker never saw ${count} address events`);
    await sleep(1);
  }
  return monoMs();
}

/**
 * Adds the VIP in `ns` and removes it again `overlapMs` later, through one `ip -batch`
 * process so the gap is the timer's, not two process start-ups. Returns the window in which
 * the checker must have seen the overlap: from just before the add to when it saw the removal.
 */
async function plant(checker: SplitBrainChecker, ns: string, overlapMs: number) {
  const events = checker.report().events;
  const ip: ChildProcess = spawn('ip', ['-n', ns, '-batch', '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise((r) => ip.once('exit', r));
  const from = monoMs();
  ip.stdin!.write(`addr add ${VIP}/32 dev eth0\n`);
  await sleep(overlapMs);
  ip.stdin!.end(`addr del ${VIP}/32 dev eth0\n`);
  await exited;
  assert.equal(ip.exitCode, 0, 'ip -batch planted and removed the address');
  // Both events (add, delete) taken in: any violation they caused is recorded by now.
  const to = await eventsSeen(checker, events + 2);
  return { from, to };
}

const within = (vs: readonly HolderChange[], w: { from: number; to: number }) =>
  vs.filter((v) => v.t >= w.from && v.t <= w.to);

test('the split-brain checker reports every planted overlap of about 5 ms, with its time', async (t) => {
  if (skipWithoutLab(t)) return;
  const { a, b, checker } = await pair(t);
  await addVip(a);
  await seen(checker, ['n1']);
  const windows: Array<{ from: number; to: number }> = [];
  for (let i = 0; i < 5; i++) {
    windows.push(await plant(checker, b, 5));
    await sleep(40);
  }
  const report = await checker.stop();
  t.diagnostic(`${report.events} events, ${report.samples} samples, ${report.violations.length} violations`);
  windows.forEach((w, i) => {
    const hits = within(report.violations, w);
    assert.ok(
      hits.length > 0,
      `planted overlap ${i + 1} (${(w.to - w.from).toFixed(1)} ms window) was reported`,
    );
    for (const v of hits) assert.deepEqual(v.holders, ['n1', 'n2']);
  });
  assert.equal(
    report.violations.length,
    report.violations.filter((v) => windows.some((w) => v.t >= w.from && v.t <= w.to)).length,
    'no violation outside the planted windows',
  );
});

test('the split-brain checker reports a planted overlap of 200 ms on events and on samples', async (t) => {
  if (skipWithoutLab(t)) return;
  const { a, b, checker } = await pair(t);
  await addVip(a);
  await seen(checker, ['n1']);
  const w = await plant(checker, b, 200);
  const report = await checker.stop();
  const hits = within(report.violations, w);
  t.diagnostic(`${hits.length} violations in the 200 ms window`);
  assert.ok(
    hits.some((v) => v.via === 'event'),
    'the address event that made the second holder is a violation',
  );
  assert.ok(
    hits.some((v) => v.via === 'tick'),
    'the periodic samples during the overlap are violations too',
  );
});

test('the split-brain checker reports nothing for clean handovers, though it sees every move', async (t) => {
  if (skipWithoutLab(t)) return;
  const { a, b, checker } = await pair(t);
  const since = monoMs();
  await addVip(a);
  await seen(checker, ['n1']);
  for (let i = 0; i < 5; i++) {
    // Removed from one node before it is added on the other: the order a correct failover keeps.
    await delVip(a);
    await addVip(b);
    await seen(checker, ['n2']);
    await delVip(b);
    await addVip(a);
    await seen(checker, ['n1']);
  }
  const slow = monoMs();
  // Back to back, from one shell: the removal on one node and the addition on the other come
  // a few milliseconds apart, in that order. Their events must not be taken in reversed.
  for (let i = 0; i < 10; i++) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
    await run([
      'sh',
      '-c',
      `ip -n ${from} addr del ${VIP}/32 dev eth0 && ip -n ${to} addr add ${VIP}/32 dev eth0`,
    ]);
  }
  await seen(checker, ['n1']);
  const report = await checker.stop();
  assert.deepEqual(report.violations, [], 'no overlap, no violation');
  const moves = (from: number, to = Number.POSITIVE_INFINITY) =>
    report.changes.filter((c) => c.t >= from && c.t < to && c.holders.length === 1).map((c) => c.holders[0]);
  assert.deepEqual(moves(since, slow), ['n1', 'n2', 'n1', 'n2', 'n1', 'n2', 'n1', 'n2', 'n1', 'n2', 'n1']);
  assert.equal(moves(slow).length, 10, 'every fast handover was seen');
});

test('a node marked powered off does not count as a holder, and counts again once powered on', async (t) => {
  if (skipWithoutLab(t)) return;
  const { a, b, checker } = await pair(t);
  await addVip(a);
  await seen(checker, ['n1']);
  checker.setPowered('n1', false);
  await addVip(b);
  await seen(checker, ['n2']);
  assert.deepEqual(checker.report().violations, [], 'the stale address of a dead node is no overlap');
  const on = monoMs();
  checker.setPowered('n1', true);
  const report = await checker.stop();
  assert.ok(
    report.violations.some((v) => v.t >= on && v.holders.join() === 'n1,n2'),
    'powered on again with the VIP still there: an overlap',
  );
});
