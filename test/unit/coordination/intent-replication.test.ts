import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IntentReplication } from '../../../src/coordination/embedded/intent-replication.js';
import { FakeTimers } from '../../support/fake-timers.js';

const five = ['n1', 'n2', 'n3', 'n4', 'witness'].map((name) => ({ name, weight: 1 }));
const entries = { 'group/g/state': { value: 'stopped', version: 1024 } };

describe('intent replication', () => {
  it('a write acknowledged by a minority of voters is not resolved, is re-sent to the silent ones, and times out', async () => {
    const clock = new FakeTimers();
    const r = new IntentReplication({ self: 'n1', voters: five, timeoutMs: 3000 });
    const begun = r.begin(entries, clock.now());
    assert.deepEqual(
      begun.send.map((s) => s.to),
      ['n2', 'n3', 'n4', 'witness'],
    );
    assert.deepEqual(begun.resolved, []);
    assert.deepEqual(r.ack(begun.id, 'n2').resolved, [], 'two of five is a minority');
    assert.deepEqual(r.ack(begun.id, 'n2').resolved, [], 'a repeated ack counts once');
    await clock.advance(1000);
    const resend = r.tick(clock.now(), true);
    assert.deepEqual(
      resend.send.map((s) => s.to),
      ['n3', 'n4', 'witness'],
    );
    assert.deepEqual(resend.timedOut, []);
    await clock.advance(1999);
    assert.deepEqual(r.tick(clock.now(), false).timedOut, []);
    await clock.advance(1);
    assert.deepEqual(r.tick(clock.now(), false).timedOut, [begun.id]);
    assert.equal(r.size, 0);
    assert.deepEqual(r.ack(begun.id, 'n3').resolved, [], 'a late ack changes nothing');
  });

  it('a write resolves as soon as a majority of voters acknowledged it', () => {
    const clock = new FakeTimers();
    const r = new IntentReplication({ self: 'n1', voters: five, timeoutMs: 3000 });
    const { id } = r.begin(entries, clock.now());
    assert.deepEqual(r.ack(id, 'n3').resolved, []);
    assert.deepEqual(r.ack(id, 'witness').resolved, [id]);
    assert.equal(r.size, 0);
    assert.deepEqual(r.tick(clock.now() + 5000, true), { send: [], resolved: [], timedOut: [] });
  });

  it('acknowledgements count by weight, and one from a stranger counts for nothing', () => {
    const voters = [
      { name: 'n1', weight: 1 },
      { name: 'n2', weight: 2 },
      { name: 'witness', weight: 1 },
    ];
    const r = new IntentReplication({ self: 'n1', voters, timeoutMs: 3000 });
    const a = r.begin(entries, 0);
    assert.deepEqual(r.ack(a.id, 'intruder').resolved, []);
    assert.deepEqual(r.ack(a.id, 'witness').resolved, [], 'weight 2 of 4 is not a majority');
    assert.deepEqual(r.ack(a.id, 'n2').resolved, [a.id]);
  });

  it('a single-voter cluster resolves a write at once', () => {
    const r = new IntentReplication({ self: 'n1', voters: [{ name: 'n1', weight: 1 }], timeoutMs: 3000 });
    const begun = r.begin(entries, 0);
    assert.deepEqual(begun.resolved, [begun.id]);
    assert.deepEqual(begun.send, []);
  });

  it('shutdown hands back every pending write to reject', () => {
    const r = new IntentReplication({ self: 'n1', voters: five, timeoutMs: 3000 });
    const a = r.begin(entries, 0);
    const b = r.begin(entries, 0);
    assert.deepEqual(r.cancelAll(), [a.id, b.id]);
    assert.equal(r.nextWakeAt(), null);
  });
});
