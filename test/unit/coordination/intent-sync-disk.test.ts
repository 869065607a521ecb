import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { durableWrite, IntentStore } from '../../../src/coordination/embedded/intent-store.js';
import { type IntentEnvelope, IntentSync } from '../../../src/coordination/embedded/intent-sync.js';
import { HaloError } from '../../../src/errors.js';

/**
 * The embedded intent's rule for a disk that refuses writes, on three IntentSync voters wired
 * together in memory, each with a fake disk that can be made full: a write is stored on its
 * origin's disk before anything is applied or sent; a peer applies what it receives but
 * acknowledges only what it stored.
 */

const VOTERS = ['n1', 'n2', 'witness'].map((name) => ({ name, weight: 1 }));
const KEY = 'group/app/state';

interface Voter {
  sync: IntentSync;
  disk: Map<string, string>;
  full: boolean;
  changes: number;
  persistEvents: Array<string | null>;
}

function cluster(opts: { down?: string[] } = {}) {
  const queue: Array<{ from: string; to: string; env: IntentEnvelope }> = [];
  const sent: Array<{ from: string; to: string; env: IntentEnvelope }> = [];
  const voters = new Map<string, Voter>();
  let now = 0;
  for (const [i, v] of VOTERS.entries()) {
    const voter: Voter = { disk: new Map(), full: false, changes: 0, persistEvents: [] } as unknown as Voter;
    voter.sync = new IntentSync({
      self: v.name,
      voterIndex: i,
      voters: VOTERS,
      // The witness keeps its copy in memory only, as the real one does.
      ...(v.name === 'witness' ? {} : { file: `/state/${v.name}/intent.json` }),
      timeoutMs: 3000,
      send: (to, env) => {
        sent.push({ from: v.name, to, env });
        if (!opts.down?.includes(to) && !opts.down?.includes(v.name)) queue.push({ from: v.name, to, env });
      },
      flush: () => undefined,
      changed: () => voter.changes++,
      persistChanged: (err) => voter.persistEvents.push(err ? err.code : null),
      persist: (file, text) => {
        if (voter.full)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        voter.disk.set(file, text);
      },
    });
    voters.set(v.name, voter);
  }
  const deliver = () => {
    while (queue.length > 0) {
      const m = queue.shift()!;
      voters.get(m.to)!.sync.receive(m.from, m.env);
    }
  };
  const v = (name: string) => voters.get(name)!;
  const stored = (name: string) => {
    const text = v(name).disk.get(`/state/${name}/intent.json`);
    return text === undefined ? undefined : (JSON.parse(text)[KEY]?.value as unknown);
  };
  const shown = (name: string) => v(name).sync.snapshot()[KEY]?.value;
  return {
    v,
    sent,
    deliver,
    stored,
    shown,
    tick: (advanceMs: number, exchange = true) => {
      now += advanceMs;
      for (const x of voters.values()) x.sync.tick(now, exchange);
      deliver();
    },
    write: (name: string, value: unknown) => {
      const p = v(name).sync.write({ [KEY]: value }, now);
      deliver();
      return p;
    },
  };
}

const settled = async (p: Promise<void>) => {
  const r = await Promise.race([
    p.then(
      () => 'resolved',
      (e: unknown) => e,
    ),
    new Promise((r) => setImmediate(() => r('pending'))),
  ]);
  return r;
};

describe('intent writes on a disk that refuses them', () => {
  it('a write whose origin cannot store it is refused with HALO_E_STATE_WRITE_FAILED before any voter sees it', async () => {
    const c = cluster();
    assert.equal(await settled(c.write('n1', 'started')), 'resolved');
    const sentBefore = c.sent.length;
    c.v('n1').full = true;
    const err = await settled(c.write('n1', 'stopped'));
    assert.ok(err instanceof HaloError, `rejected with a HaloError, got ${String(err)}`);
    assert.equal(err.code, 'HALO_E_STATE_WRITE_FAILED');
    assert.equal(err.httpStatus, 503);
    assert.equal(err.details?.['errno'], 'ENOSPC');
    assert.equal(c.sent.length, sentBefore, 'nothing was sent to any voter');
    for (const n of ['n1', 'n2', 'witness']) assert.equal(c.shown(n), 'started', `${n} still shows started`);
    assert.equal(c.stored('n1'), 'started', 'the old file is left in place');
    assert.equal(c.v('n1').changes, 1, 'the refused write raised no change here');
    assert.equal(c.v('n1').sync.persistError(), null, 'memory and disk still agree on n1');

    c.tick(1000);
    for (const n of ['n1', 'n2', 'witness'])
      assert.equal(c.shown(n), 'started', 'the exchange spreads nothing new');

    c.v('n1').full = false;
    assert.equal(
      await settled(c.write('n1', 'stopped')),
      'resolved',
      'the same write works once space is freed',
    );
    for (const n of ['n1', 'n2', 'witness']) assert.equal(c.shown(n), 'stopped');
    assert.equal(c.stored('n1'), 'stopped');
    assert.equal(c.stored('n2'), 'stopped');
  });

  it('a voter that cannot store a peer’s write applies it but does not acknowledge it, and stores it once it can', async () => {
    const c = cluster();
    assert.equal(await settled(c.write('n2', 'started')), 'resolved');
    c.v('n1').full = true;
    const acksBefore = c.sent.filter((m) => m.env.k === 'intent-ack' && m.from === 'n1').length;
    assert.equal(await settled(c.write('n2', 'stopped')), 'resolved', 'n2 and the witness are a majority');
    assert.equal(
      c.sent.filter((m) => m.env.k === 'intent-ack' && m.from === 'n1').length,
      acksBefore,
      'n1 did not acknowledge what it could not store',
    );
    assert.equal(c.shown('n1'), 'stopped', 'n1 acts on the committed write all the same');
    assert.equal(c.v('n1').changes, 2, 'n1 raised the change (its engine stops the group)');
    assert.equal(c.stored('n1'), 'started', 'n1’s file still holds the old map');
    assert.equal(c.v('n1').sync.persistError()?.code, 'HALO_E_STATE_WRITE_FAILED');
    assert.deepEqual(c.v('n1').persistEvents, ['HALO_E_STATE_WRITE_FAILED'], 'reported once');

    c.tick(1000);
    assert.equal(c.stored('n1'), 'started', 'retried and still full');
    assert.deepEqual(
      c.v('n1').persistEvents,
      ['HALO_E_STATE_WRITE_FAILED'],
      'a failing retry is not reported again',
    );

    c.v('n1').full = false;
    c.tick(1000);
    assert.equal(c.stored('n1'), 'stopped', 'the retry stored it');
    assert.equal(c.v('n1').sync.persistError(), null);
    assert.deepEqual(c.v('n1').persistEvents, ['HALO_E_STATE_WRITE_FAILED', null]);
  });

  it('a voter that cannot store never counts towards the majority', async () => {
    const c = cluster({ down: ['witness'] });
    c.v('n2').full = true;
    const p = c.write('n1', 'stopped');
    assert.equal(await settled(p), 'pending', 'n1 alone is no majority while n2 cannot store');
    assert.equal(c.shown('n2'), 'stopped', 'n2 applied it in memory');
    c.tick(1000);
    c.tick(1000);
    c.tick(1000);
    const err = await settled(p);
    assert.ok(err instanceof HaloError);
    assert.equal(err.code, 'HALO_E_NO_QUORUM');
  });

  it('a write is acknowledged as soon as the voter stores it, including a retry of one it held in memory', async () => {
    const c = cluster({ down: ['witness'] });
    c.v('n2').full = true;
    const p = c.write('n1', 'stopped');
    assert.equal(await settled(p), 'pending');
    c.v('n2').full = false;
    c.tick(1000);
    assert.equal(await settled(p), 'resolved', 'the re-sent write is stored and acknowledged by n2');
    assert.equal(c.stored('n2'), 'stopped');
  });
});

describe('the intent file', () => {
  it('is replaced whole or not at all: a failed write leaves the previous map, which a restart loads', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'halo-intent-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'state', 'intent.json');
    let full = false;
    const disk = (f: string, text: string) => {
      if (full) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      durableWrite(f, text);
    };
    const store = new IntentStore(file, disk);
    assert.equal(store.commit({ [KEY]: { value: 'started', version: 1024 } }), true);
    full = true;
    assert.throws(
      () => store.commit({ [KEY]: { value: 'stopped', version: 2048 } }),
      (e: unknown) => e instanceof HaloError && e.code === 'HALO_E_STATE_WRITE_FAILED',
    );
    assert.equal(store.snapshot()[KEY]?.value, 'started', 'memory unchanged after a refused commit');
    assert.equal(JSON.parse(readFileSync(file, 'utf8'))[KEY].value, 'started');
    const restarted = new IntentStore(file);
    restarted.load();
    assert.equal(restarted.snapshot()[KEY]?.value, 'started');
    assert.equal(restarted.durable, true);
  });
});

describe('the periodic intent exchange', () => {
  it('sends only digests while copies agree, and whole maps both ways when they differ', async () => {
    const down = ['n2'];
    const c = cluster({ down });
    assert.equal(await settled(c.write('n1', 'started')), 'resolved');
    assert.equal(c.shown('n2'), undefined, 'n2 missed the write');
    down.length = 0;
    const mark = c.sent.length;
    c.tick(1000);
    assert.equal(c.shown('n2'), 'started', 'one exchange brings n2 up to date');
    const kinds = new Set(c.sent.slice(mark).map((m) => m.env.k));
    assert.ok(kinds.has('intent') && kinds.has('intent-pull'));
    const mark2 = c.sent.length;
    c.tick(1000);
    assert.deepEqual(new Set(c.sent.slice(mark2).map((m) => m.env.k)), new Set(['intent-digest']));
  });
});
