import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ballotMs,
  ballotVoter,
  makeBallot,
  nextBallot,
  termFromString,
  termToString,
} from '../../../src/coordination/lease/ballot.js';
import { parseLeaseMessage } from '../../../src/coordination/lease/messages.js';

describe('lease ballots', () => {
  it('packs wall-clock ms and voter index into one JSON-safe number', () => {
    const b = makeBallot(1_760_000_000_123.9, 5);
    assert.equal(ballotMs(b), 1_760_000_000_123);
    assert.equal(ballotVoter(b), 5);
    assert.ok(Number.isSafeInteger(b));
    assert.equal(JSON.parse(JSON.stringify({ b })).b, b);
    assert.throws(() => makeBallot(1, 1024), RangeError);
  });

  it('issues a ballot strictly above anything seen, from the clock when it is ahead', () => {
    const seen = makeBallot(1000, 3);
    assert.equal(nextBallot(seen, 2000, 1), makeBallot(2000, 1));
    const behind = nextBallot(seen, 500, 1);
    assert.ok(behind > seen);
    assert.equal(ballotVoter(behind), 1);
    // Same ms, lower voter index: must still go above.
    assert.ok(nextBallot(seen, 1000, 1) > seen);
    assert.ok(nextBallot(seen, 1000, 7) > seen);
  });

  it('renders terms as decimal strings and parses them back', () => {
    const t = makeBallot(1_760_000_000_000, 2);
    assert.equal(termFromString(termToString(t)), t);
    assert.equal(termFromString('12a'), null);
    assert.equal(termFromString('99999999999999999'), null);
  });
});

describe('lease message parsing', () => {
  it('accepts every well-formed message and rejects malformed ones', () => {
    const good = [
      { type: 'prepare', g: 'g', b: 1 },
      { type: 'promise', g: 'g', b: 1 },
      { type: 'promise', g: 'g', b: 1, accepted: { b: 1, owner: 'n1', term: 1, remainingMs: 3.5 } },
      { type: 'nack', g: 'g', b: 1, promised: 2 },
      { type: 'propose', g: 'g', b: 1, owner: 'n1', term: 1, durMs: 500 },
      { type: 'accepted', g: 'g', b: 1 },
      { type: 'release', g: 'g', owner: 'n1', term: 1 },
      { type: 'expired', g: 'g' },
    ];
    for (const m of good) assert.deepEqual(parseLeaseMessage(JSON.parse(JSON.stringify(m))), m);
    const bad = [
      null,
      'prepare',
      { type: 'prepare', b: 1 },
      { type: 'prepare', g: 'g', b: -1 },
      { type: 'prepare', g: 'g', b: 1.5 },
      { type: 'promise', g: 'g', b: 1, accepted: { b: 1, owner: '', term: 1, remainingMs: 1 } },
      { type: 'propose', g: 'g', b: 1, owner: 'n1', term: 1, durMs: Number.NaN },
      { type: 'bogus', g: 'g' },
    ];
    for (const m of bad) assert.equal(parseLeaseMessage(m), null, JSON.stringify(m));
  });
});
