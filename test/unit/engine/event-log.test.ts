import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EventLog, type HaloEvent, TimelineRecorder } from '../../../src/engine/event-log.js';
import { FakeTimers } from '../../support/fake-timers.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'halo-events-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('EventLog', () => {
  test('writes JSON lines with seq, ts, node and the event fields', async (t) => {
    const dir = await tempDir(t);
    const log = new EventLog({ dir, node: 'n1', wallNow: () => Date.UTC(2026, 0, 1) });
    await log.start();
    log.append({ type: 'group', group: 'web', message: 'web started' });
    await log.stop();
    const lines = (await readFile(join(dir, 'events.jsonl'), 'utf8')).trim().split('\n');
    assert.deepEqual(JSON.parse(lines[0]!), {
      seq: 1,
      ts: '2026-01-01T00:00:00.000Z',
      node: 'n1',
      level: 'info',
      type: 'group',
      group: 'web',
      message: 'web started',
    });
  });

  test('continues the sequence and restores recent events after a restart', async (t) => {
    const dir = await tempDir(t);
    const first = new EventLog({ dir, node: 'n1' });
    await first.start();
    first.append({ type: 'agent', message: 'one' });
    first.append({ type: 'agent', message: 'two' });
    await first.stop();
    const second = new EventLog({ dir, node: 'n1' });
    await second.start();
    assert.deepEqual(
      second.recent().map((e) => e.message),
      ['one', 'two'],
    );
    assert.equal(second.append({ type: 'agent', message: 'three' }).seq, 3);
    await second.stop();
  });

  test('rotates at the size limit and keeps only the configured number of files', async (t) => {
    const dir = await tempDir(t);
    const log = new EventLog({ dir, node: 'n1', maxBytes: 300, keep: 2 });
    await log.start();
    for (let i = 0; i < 40; i++) log.append({ type: 'agent', message: `event number ${i}` });
    await log.stop();
    const files = (await readdir(dir)).sort();
    assert.deepEqual(files, ['events.1.jsonl', 'events.2.jsonl', 'events.jsonl']);
    const last = (await readFile(join(dir, 'events.jsonl'), 'utf8')).trim().split('\n').at(-1)!;
    assert.equal((JSON.parse(last) as HaloEvent).message, 'event number 39');
  });

  test('a burst of events lands on disk whole and in order, each file within the size limit', async (t) => {
    const dir = await tempDir(t);
    const log = new EventLog({ dir, node: 'n1', maxBytes: 64 * 1024, keep: 9, ringSize: 10 });
    await log.start();
    for (let i = 1; i <= 3000; i++) log.append({ type: 'group', group: `g${i}`, message: `event ${i}` });
    await log.flush();
    // Oldest first: events.N.jsonl … events.1.jsonl, then events.jsonl.
    const age = (file: string) => Number(/^events\.(\d+)\.jsonl$/.exec(file)?.[1] ?? 0);
    const files = (await readdir(dir)).sort((a, b) => age(b) - age(a));
    let seqs: number[] = [];
    for (const file of files) {
      const text = await readFile(join(dir, file), 'utf8');
      assert.ok(Buffer.byteLength(text) <= 64 * 1024, `${file} is within the limit`);
      seqs = seqs.concat(
        text
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as HaloEvent).seq),
      );
    }
    assert.equal(seqs.at(-1), 3000);
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => 3001 - seqs.length + i),
    );
    await log.stop();
  });

  test('keeps a bounded ring of recent events and filters it', async (t) => {
    const dir = await tempDir(t);
    const log = new EventLog({ dir, node: 'n1', ringSize: 3 });
    await log.start();
    for (const g of ['a', 'b', 'a', 'b']) log.append({ type: 'group', group: g, message: g });
    assert.deepEqual(
      log.recent().map((e) => e.seq),
      [2, 3, 4],
    );
    assert.deepEqual(
      log.recent({ group: 'a' }).map((e) => e.seq),
      [3],
    );
    assert.deepEqual(
      log.recent({ afterSeq: 3 }).map((e) => e.seq),
      [4],
    );
    await log.stop();
  });

  test('streams new events to subscribers until they unsubscribe', async (t) => {
    const dir = await tempDir(t);
    const log = new EventLog({ dir, node: 'n1' });
    await log.start();
    const seen: string[] = [];
    const unsubscribe = log.subscribe((e) => seen.push(e.message));
    log.append({ type: 'agent', message: 'a' });
    unsubscribe();
    log.append({ type: 'agent', message: 'b' });
    assert.deepEqual(seen, ['a']);
    await log.stop();
  });

  test('cuts long outputs', async (t) => {
    const dir = await tempDir(t);
    const log = new EventLog({ dir, node: 'n1', maxOutputChars: 10 });
    await log.start();
    const e = log.append({ type: 'monitor', message: 'm', output: 'x'.repeat(25) });
    assert.equal(e.output, `${'x'.repeat(10)}… [15 more characters]`);
    await log.stop();
  });
});

describe('TimelineRecorder', () => {
  test('records phases with per-phase durations and emits a timeline event', async (t) => {
    const dir = await tempDir(t);
    const log = new EventLog({ dir, node: 'n2' });
    await log.start();
    const timers = new FakeTimers();
    const rec = new TimelineRecorder(log, 'n2', timers);
    rec.mark('web', 'lease-granted', 'lease granted');
    await timers.advance(40);
    rec.mark('web', 'started', 'x');
    await timers.advance(10);
    rec.mark('web', 'started', 'x');
    rec.mark('web', 'healthy', 'x');
    const timeline = rec.finish('web');
    assert.deepEqual(
      timeline?.steps.map((s) => [s.phase, s.sinceStartMs, s.durationMs]),
      [
        ['lease-granted', 0, 0],
        ['started', 40, 40],
        ['healthy', 50, 10],
      ],
    );
    assert.equal(timeline?.totalMs, 50);
    assert.deepEqual(rec.last('web'), timeline);
    const event = log.recent().at(-1)!;
    assert.equal(event.type, 'timeline');
    assert.match(event.message, /lease-granted \+0ms → started \+40ms → healthy \+10ms \(total 50ms\)/);
    await log.stop();
  });
});
