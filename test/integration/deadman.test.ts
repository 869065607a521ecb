import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processGroupAlive } from '../../src/coordination/deadman/actions.js';
import { DeadmanClient, type DeadmanEvent } from '../../src/coordination/deadman/client.js';
import { decodeFrame, singleClusterOptions } from '../../src/coordination/transport/codec.js';
import { threadNice } from '../support/thread-nice.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/deadman-agent.js', import.meta.url));
const monoNow = () => Number(process.hrtime.bigint()) / 1e6;

interface Arrival {
  msg: Buffer;
  markerExisted: boolean;
  groupAlive: boolean;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'halo-deadman-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function killGroup(pgid: number | undefined): void {
  if (pgid === undefined || pgid <= 1) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A voter socket that snapshots the local state at the moment each datagram arrives. */
async function voter(
  t: TestContext,
  marker: string,
  pgid: () => number | undefined,
): Promise<[number, Arrival[]]> {
  const socket = dgram.createSocket('udp4');
  t.after(() => new Promise<void>((r) => socket.close(() => r())));
  const arrivals: Arrival[] = [];
  socket.on('message', (msg) => {
    const g = pgid();
    arrivals.push({
      msg,
      markerExisted: existsSync(marker),
      groupAlive: g === undefined || processGroupAlive(g),
    });
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return [socket.address().port, arrivals];
}

/** A helper for node n1 with no voters to release to, stopped (unless told not to) and killed after the test. */
async function helperWithoutVoters(
  t: TestContext,
  opts: { stderr?: 'ignore' | number; stopAfter?: boolean } = {},
): Promise<DeadmanClient> {
  const deadman = await DeadmanClient.spawn({
    nodeName: 'n1',
    cluster: 'test-cluster',
    epoch: 1,
    key: randomBytes(32),
    voters: {},
    stderr: opts.stderr ?? 'ignore',
  });
  if (opts.stopAfter ?? true) t.after(() => deadman.stop());
  t.after(() => killGroup(deadman.pid));
  return deadman;
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts the stand-in agent and returns the pids it reports once the group is armed. */
async function startAgent(
  t: TestContext,
  dir: string,
  input: { keyHex: string; marker: string; voterPort: number; mode: 'ok' | 'fail' },
): Promise<{ agent: ChildProcess; pgid: number; helperPid: number; logFile: string }> {
  const logFile = join(dir, 'helper.log');
  const logFd = openSync(logFile, 'a');
  const agent = spawn(process.execPath, [FIXTURE, '--fixture'], { stdio: ['pipe', 'pipe', logFd] });
  closeSync(logFd);
  const info: { pgid?: number; helperPid?: number } = {};
  t.after(() => {
    agent.kill('SIGKILL');
    killGroup(info.pgid);
    killGroup(info.helperPid);
  });
  agent.stdin!.write(`${JSON.stringify(input)}\n`);
  let out = '';
  agent.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  await until(() => out.includes('\n'), 'the fixture agent to arm its group');
  Object.assign(info, JSON.parse(out.slice(0, out.indexOf('\n'))));
  return { agent, pgid: info.pgid!, helperPid: info.helperPid!, logFile };
}

describe('deadman helper', () => {
  it('stops the group and only then releases the lease when the agent is killed', async (t) => {
    const dir = tempDir(t);
    const marker = join(dir, 'resource-active');
    writeFileSync(marker, 'x');
    const key = randomBytes(32);
    let pgid: number | undefined;
    const [voterPort, arrivals] = await voter(t, marker, () => pgid);
    const started = await startAgent(t, dir, { keyHex: key.toString('hex'), marker, voterPort, mode: 'ok' });
    pgid = started.pgid;
    assert.equal(processGroupAlive(pgid), true);
    assert.equal(existsSync(marker), true);

    started.agent.kill('SIGKILL');
    await until(() => arrivals.length > 0, 'the release datagram');

    const first = arrivals[0]!;
    assert.equal(first.markerExisted, false, 'marker removed before the release was sent');
    assert.equal(first.groupAlive, false, 'process group gone before the release was sent');
    assert.equal(processGroupAlive(pgid), false);

    const decoded = decodeFrame(first.msg, singleClusterOptions('test-cluster', key, 1));
    assert.ok(decoded.ok, 'release is signed with the cluster key');
    assert.equal(decoded.frame.header.from, 'n1');
    assert.deepEqual(decoded.frame.payloads, [{ type: 'RELEASE', g: 'failover', b: '42:0', term: '42:0' }]);
    assert.ok(
      arrivals.every((a) => a.msg.equals(first.msg)),
      'repeats are the same frame (deduped by seq)',
    );

    await until(() => !processGroupAlive(started.helperPid), 'the helper to exit');
    const log = readFileSync(started.logFile, 'utf8');
    assert.match(log, /sending release/);
    assert.doesNotMatch(log, new RegExp(key.toString('hex')));
    assert.doesNotMatch(log, new RegExp(key.toString('base64').replace(/[+/=]/g, '.')));
  });

  it('sends nothing when it cannot confirm the stop', async (t) => {
    const dir = tempDir(t);
    const marker = join(dir, 'resource-active');
    writeFileSync(marker, 'x');
    const key = randomBytes(32);
    const [voterPort, arrivals] = await voter(t, marker, () => undefined);
    const started = await startAgent(t, dir, {
      keyHex: key.toString('hex'),
      marker,
      voterPort,
      mode: 'fail',
    });

    started.agent.kill('SIGKILL');
    await until(() => !processGroupAlive(started.helperPid), 'the helper to exit');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(arrivals.length, 0);
    assert.equal(processGroupAlive(started.pgid), false, 'the actions still ran');
    assert.match(readFileSync(started.logFile, 'utf8'), /no release sent/);
  });

  it('fences a group at its deadline when the agent stays alive but stops re-arming', async (t) => {
    const dir = tempDir(t);
    const marker = join(dir, 'resource-active');
    writeFileSync(marker, 'x');
    const key = randomBytes(32);
    const [voterPort, arrivals] = await voter(t, marker, () => undefined);
    const resource = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    t.after(() => killGroup(resource.pid));
    const deadman = await DeadmanClient.spawn({
      nodeName: 'n1',
      cluster: 'test-cluster',
      epoch: 1,
      key,
      voters: { n2: [{ host: '127.0.0.1', port: voterPort }] },
      stderr: 'ignore',
    });
    t.after(() => deadman.stop());
    t.after(() => killGroup(deadman.pid));
    const events: Array<DeadmanEvent & { at: number }> = [];
    deadman.on((e) => events.push({ ...e, at: monoNow() }));
    // A late fence is a split brain: the helper asks to be scheduled ahead of ordinary work.
    if (process.getuid?.() === 0) assert.equal(threadNice(deadman.pid!, deadman.pid!), -10);

    const deadline = monoNow() + 300;
    await deadman.arm('failover', {
      deadlineMonoMs: deadline,
      actions: [
        { kind: 'kill-tree', pid: resource.pid! },
        { kind: 'run', argv: ['rm', marker], timeoutMs: 5000 },
      ],
      releasePayload: { type: 'RELEASE' },
    });
    await until(() => events.some((e) => e.type === 'fenced'), 'the deadline to fire');
    const fenced = events.find((e) => e.type === 'fenced')!;
    assert.deepEqual(
      { type: fenced.type, group: (fenced as { group: string }).group },
      { type: 'fenced', group: 'failover' },
    );
    assert.equal((fenced as { confirmed: boolean }).confirmed, true);
    assert.ok(fenced.at >= deadline, 'did not act before the deadline');
    assert.equal(existsSync(marker), false);
    assert.equal(processGroupAlive(resource.pid!), false);
    assert.equal(arrivals.length, 0, 'a deadline fence sends no release');
    assert.ok(!events.some((e) => e.type === 'exit'), 'the helper keeps running for the agent');
  });

  it('does nothing once re-armed with a later deadline, and exits without acting on stop', async (t) => {
    const dir = tempDir(t);
    const marker = join(dir, 'resource-active');
    writeFileSync(marker, 'x');
    const resource = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    t.after(() => killGroup(resource.pid));
    const deadman = await helperWithoutVoters(t, { stopAfter: false });
    const events: DeadmanEvent[] = [];
    deadman.on((e) => events.push(e));
    const spec = {
      actions: [
        { kind: 'kill-tree' as const, pid: resource.pid! },
        { kind: 'run' as const, argv: ['rm', marker], timeoutMs: 5000 },
      ],
      releasePayload: null,
    };
    await deadman.arm('failover', { ...spec, deadlineMonoMs: monoNow() + 200 });
    await deadman.arm('failover', { ...spec, deadlineMonoMs: monoNow() + 120_000 });
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(existsSync(marker), true);

    await deadman.stop();
    assert.deepEqual(events, [{ type: 'exit', code: 0, signal: null, expected: true }]);
    assert.equal(existsSync(marker), true);
    assert.equal(processGroupAlive(resource.pid!), true);
  });

  it('moves the deadline of armed groups with one extend, fences at the new one, and names groups it does not hold', async (t) => {
    const dir = tempDir(t);
    const markers = ['a', 'b'].map((g) => join(dir, `${g}-active`));
    for (const m of markers) writeFileSync(m, 'x');
    const deadman = await helperWithoutVoters(t);
    const events: Array<DeadmanEvent & { at: number }> = [];
    deadman.on((e) => events.push({ ...e, at: monoNow() }));
    for (const [i, g] of ['a', 'b'].entries()) {
      await deadman.arm(g, {
        deadlineMonoMs: monoNow() + 300,
        actions: [{ kind: 'run', argv: ['rm', markers[i]!], timeoutMs: 5000 }],
        releasePayload: null,
      });
    }
    const later = monoNow() + 1500;
    assert.deepEqual(await deadman.extend(['a', 'b', 'never-armed'], later), ['never-armed']);
    await new Promise((r) => setTimeout(r, 700));
    assert.deepEqual(
      markers.map((m) => existsSync(m)),
      [true, true],
      'nothing fenced at the old deadline',
    );
    await until(() => events.filter((e) => e.type === 'fenced').length === 2, 'both fences');
    for (const e of events.filter((e) => e.type === 'fenced'))
      assert.ok(e.at >= later, 'fenced at the new deadline');
    assert.deepEqual(
      markers.map((m) => existsSync(m)),
      [false, false],
    );
  });

  it('fences every group that shares a deadline from one timer, signals first, and logs how late each started', async (t) => {
    const dir = tempDir(t);
    const logPath = join(dir, 'helper.log');
    const logFd = openSync(logPath, 'a');
    t.after(() => closeSync(logFd));
    const deadman = await helperWithoutVoters(t, { stderr: logFd });
    const fenced: string[] = [];
    deadman.on((e) => {
      if (e.type === 'fenced' && e.confirmed) fenced.push(e.group);
    });
    const groups = Array.from({ length: 40 }, (_, i) => `g${i}`);
    const sleepers = groups.map(() => {
      const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
      child.unref();
      return child.pid!;
    });
    t.after(() => sleepers.forEach(killGroup));
    const deadline = monoNow() + 500;
    // Armed first, but their first action is a command (a fork and exec): fenced after the signals.
    const commandGroups = Array.from({ length: 10 }, (_, i) => `c${i}`);
    for (const g of commandGroups)
      await deadman.arm(g, {
        deadlineMonoMs: deadline,
        actions: [{ kind: 'run', argv: ['true'], timeoutMs: 5000 }],
        releasePayload: null,
      });
    for (const [i, g] of groups.entries())
      await deadman.arm(g, {
        deadlineMonoMs: deadline,
        actions: [{ kind: 'kill-tree', pid: sleepers[i]!, signal: 'SIGTERM' }],
        releasePayload: null,
      });
    const all = [...groups, ...commandGroups];
    await until(() => fenced.length === all.length, 'every group fenced');
    assert.deepEqual(
      sleepers.filter((pid) => processGroupAlive(pid)),
      [],
      'every process group is gone',
    );
    const records = readFileSync(logPath, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const reached = records.filter((r) => r.msg === 'deadline reached, fencing group');
    assert.deepEqual(reached.map((r) => r.group).sort(), [...all].sort());
    assert.ok(
      reached.every((r) => r.batch === all.length && Number.isInteger(r.lateMs)),
      'one firing took all the groups of the deadline',
    );
    const done = records.filter((r) => r.msg === 'deadline fence done');
    assert.equal(done.length, all.length);
    const started = new Map(done.map((r) => [r.group, r.startLateMs as number]));
    assert.ok(
      Math.max(...groups.map((g) => started.get(g)!)) <=
        Math.min(...commandGroups.map((g) => started.get(g)!)),
      'every signal was issued before the first command was started',
    );
    const decidedLate = new Map(reached.map((r) => [r.group, r.lateMs as number]));
    assert.ok(
      done.every((r) => Number.isInteger(r.startLateMs) && r.startLateMs >= decidedLate.get(r.group)! - 1),
      'each fence started no earlier than the decision',
    );
  });
});
