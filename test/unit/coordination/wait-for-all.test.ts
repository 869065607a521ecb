import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  COLD_START_SETTLE_MS,
  COLD_START_STAGGER_MS,
  coldStartStaggerMs,
  ProposeGate,
} from '../../../src/coordination/embedded/propose-gate.js';
import { type VoterSighting, waitForAll } from '../../../src/coordination/embedded/wait-for-all.js';
import { ACQUISITIONS_PER_SECOND } from '../../../src/coordination/lease/acquisition-pacer.js';
import { Membership } from '../../../src/coordination/membership.js';

const M = 520;
const WAIT = 10_000;
const SETTLE = COLD_START_SETTLE_MS;

function peer(name: string, over: Partial<VoterSighting> = {}): VoterSighting {
  return {
    name,
    kind: name === 'witness' ? 'witness' : 'node',
    up: false,
    startedAt: null,
    settled: false,
    ...over,
  };
}

describe('wait for all voters on a cold start (pure decision)', () => {
  it('waits while a voter has not been heard, until the bound', () => {
    const peers = [peer('n1'), peer('witness', { up: true, startedAt: -5000 })];
    const v = waitForAll({
      now: 3000,
      bootAt: 0,
      quarantineMs: M,
      waitForAllMs: WAIT,
      settleMs: SETTLE,
      peers,
    });
    assert.deepEqual(v, { open: false, until: WAIT, missing: ['n1'] });
  });

  it('once every voter is heard, opens when the last one to start leaves its quarantine', () => {
    // This node (n2) started at 0, the witness long before, n1 at 2500.
    const peers = [
      peer('n1', { up: true, startedAt: 2500 }),
      peer('witness', { up: true, startedAt: -60_000 }),
    ];
    const v = waitForAll({
      now: 2510,
      bootAt: 0,
      quarantineMs: M,
      waitForAllMs: WAIT,
      settleMs: SETTLE,
      peers,
    });
    assert.deepEqual(v, { open: true, at: 2500 + M, reason: 'all-voters', missing: [] });
  });

  it('opens no sooner than the settle time after the last voter was first heard', () => {
    // n1 started long ago but is heard only now (its link just came up).
    const peers = [
      peer('n1', { up: true, startedAt: -20_000 }),
      peer('witness', { up: true, startedAt: -60_000 }),
    ];
    const v = waitForAll({
      now: 4000,
      bootAt: 0,
      quarantineMs: M,
      waitForAllMs: WAIT,
      settleMs: SETTLE,
      peers,
    });
    assert.deepEqual(v, { open: true, at: 4000 + SETTLE, reason: 'all-voters', missing: [] });
  });

  it('every node works out the same opening time, so the rank back-off decides', () => {
    const n1 = waitForAll({
      now: 2600,
      bootAt: 2500,
      quarantineMs: M,
      waitForAllMs: WAIT,
      settleMs: SETTLE,
      peers: [peer('n2', { up: true, startedAt: 0 }), peer('witness', { up: true, startedAt: -60_000 })],
    });
    const n2 = waitForAll({
      now: 2600,
      bootAt: 0,
      quarantineMs: M,
      waitForAllMs: WAIT,
      settleMs: SETTLE,
      peers: [peer('n1', { up: true, startedAt: 2500 }), peer('witness', { up: true, startedAt: -60_000 })],
    });
    assert.ok(n1.open && n2.open && n1.at === n2.at, `${JSON.stringify(n1)} ${JSON.stringify(n2)}`);
  });

  it('goes on with a majority after the bound, naming who never came', () => {
    const peers = [peer('n1'), peer('witness', { up: true, startedAt: -5000 })];
    const v = waitForAll({
      now: WAIT,
      bootAt: 0,
      quarantineMs: M,
      waitForAllMs: WAIT,
      settleMs: SETTLE,
      peers,
    });
    assert.deepEqual(v, { open: true, at: WAIT, reason: 'timeout', missing: ['n1'] });
  });

  it('does not wait when it joins a running cluster (a node peer is past its own wait)', () => {
    const peers = [peer('n1', { up: true, startedAt: -90_000, settled: true }), peer('witness')];
    const v = waitForAll({
      now: 100,
      bootAt: 0,
      quarantineMs: M,
      waitForAllMs: WAIT,
      settleMs: SETTLE,
      peers,
    });
    assert.deepEqual(v, { open: true, at: M, reason: 'joined-running-cluster', missing: [] });
  });

  it('a settled peer that is no longer heard does not count', () => {
    const peers = [
      peer('n1', { up: false, startedAt: -90_000, settled: true }),
      peer('witness', { up: true, startedAt: -1 }),
    ];
    assert.equal(
      waitForAll({ now: 100, bootAt: 0, quarantineMs: M, waitForAllMs: WAIT, settleMs: SETTLE, peers }).open,
      false,
    );
  });

  it('with the bound at 0 only the restart quarantine applies', () => {
    const v = waitForAll({
      now: 0,
      bootAt: 0,
      quarantineMs: M,
      waitForAllMs: 0,
      settleMs: SETTLE,
      peers: [peer('n1')],
    });
    assert.deepEqual(v, { open: true, at: M, reason: 'off', missing: [] });
  });
});

describe('propose gate with wait-for-all', () => {
  it('holds candidacies past the quarantine until every voter is heard, then lets them through together', () => {
    const gate = new ProposeGate({ quarantineMs: M, waitForAllMs: WAIT });
    gate.boot(0);
    assert.equal(gate.offer('g', 0, 10), false);
    const alone = [peer('n1'), peer('witness', { up: true, startedAt: -5000 })];
    assert.equal(gate.settle(2000, alone), null);
    assert.deepEqual(gate.due(2000), [], 'past the quarantine but n1 not heard yet');
    assert.equal(gate.isOpen(2000), false);
    const all = [peer('n1', { up: true, startedAt: 1990 }), peer('witness', { up: true, startedAt: -5000 })];
    const opened = gate.settle(2000, all);
    assert.deepEqual(opened, { open: true, at: 1990 + M, reason: 'all-voters', missing: [] });
    assert.equal(gate.nextWakeAt(), 1990 + M, 'the caller wakes exactly at the opening');
    assert.deepEqual(gate.due(1990 + M - 1), []);
    assert.deepEqual(gate.due(1990 + M), [['g', 0]]);
    assert.equal(gate.isOpen(1990 + M), true);
    assert.equal(gate.settle(1990 + M, all), null, 'the verdict is given once');
  });

  it('after a cold start a less preferred candidacy waits a stagger per rank, so a late tick of the preferred node still wins', () => {
    const gate = new ProposeGate({ quarantineMs: M, waitForAllMs: WAIT });
    gate.boot(0);
    gate.offer('a', 1, 10);
    gate.offer('b', 0, 10);
    gate.offer('c', null, 10);
    const all = [peer('n1', { up: true, startedAt: 300 }), peer('witness', { up: true, startedAt: -5000 })];
    const open = 300 + M;
    gate.settle(310, all);
    assert.deepEqual(gate.due(open), [
      ['b', 0],
      ['c', null],
    ]);
    // No group count given: the stagger is the fixed part alone.
    const stagger = COLD_START_STAGGER_MS;
    assert.equal(gate.nextWakeAt(), open + stagger);
    assert.equal(gate.offer('d', 2, open + 1), false, 'a rank-2 candidacy set now waits too');
    assert.deepEqual(gate.due(open + stagger - 1), []);
    assert.deepEqual(gate.due(open + stagger), [['a', 1]]);
    assert.deepEqual(gate.due(open + 2 * stagger), [['d', 2]]);
    assert.equal(gate.offer('a', 1, open + 2 * stagger), true, 'later changes apply at once');
  });

  it('with a thousand groups the stagger covers the preferred node’s paced walk through them', () => {
    const gate = new ProposeGate({ quarantineMs: M, waitForAllMs: WAIT, groups: 1000 });
    gate.boot(0);
    const all = [peer('n1', { up: true, startedAt: 300 }), peer('witness', { up: true, startedAt: -5000 })];
    const open = 300 + M;
    gate.settle(310, all);
    // The engine offers its candidacies after the wait, once it has ranked the voters.
    for (let g = 1; g <= 1000; g++) assert.equal(gate.offer(`g${g}`, 1, open + 10), false);
    // At ACQUISITIONS_PER_SECOND = 1,000 the preferred node needs 1 s for its 1,000 attempts.
    const walk = Math.ceil((1000 * 1000) / ACQUISITIONS_PER_SECOND);
    assert.equal(coldStartStaggerMs(1000), COLD_START_STAGGER_MS + walk);
    assert.deepEqual(gate.due(open + COLD_START_STAGGER_MS + walk - 1), []);
    assert.equal(gate.due(open + COLD_START_STAGGER_MS + walk).length, 1000);
  });

  it('a node joining peers that are past their wait staggers its less preferred candidacies too', () => {
    // n1 and n2 timed out of their wait before a majority existed; n3 completes the majority.
    const gate = new ProposeGate({ quarantineMs: M, waitForAllMs: WAIT });
    gate.boot(0);
    gate.offer('g', 2, 10);
    gate.offer('h', 0, 10);
    const settled = [peer('n1', { up: true, startedAt: -20_000, settled: true })];
    assert.deepEqual(gate.settle(5, settled), {
      open: true,
      at: M,
      reason: 'joined-running-cluster',
      missing: [],
    });
    assert.deepEqual(gate.due(M), [['h', 0]]);
    const stagger = coldStartStaggerMs(0);
    assert.deepEqual(gate.due(M + 2 * stagger - 1), []);
    assert.deepEqual(gate.due(M + 2 * stagger), [['g', 2]]);
  });

  it('opens at the bound when a voter never comes', () => {
    const gate = new ProposeGate({ quarantineMs: M, waitForAllMs: WAIT });
    gate.boot(0);
    gate.offer('g', 0, 10);
    const alone = [peer('n1'), peer('witness', { up: true, startedAt: -5000 })];
    assert.equal(gate.nextWakeAt(), WAIT);
    assert.equal(gate.settle(WAIT - 1, alone), null);
    assert.deepEqual(gate.settle(WAIT, alone), { open: true, at: WAIT, reason: 'timeout', missing: ['n1'] });
    assert.deepEqual(gate.due(WAIT), [['g', 0]]);
  });

  it('a clock anomaly later quarantines again but does not restart the cold-start wait', () => {
    const gate = new ProposeGate({ quarantineMs: M, waitForAllMs: WAIT });
    gate.boot(0);
    gate.settle(WAIT, []);
    gate.onAnomaly({ kind: 'pause', gapMs: 900 }, [{ group: 'g', rank: 0, heldTerm: 5 }], 20_000);
    assert.equal(gate.isOpen(20_000 + M - 1), false);
    assert.deepEqual(gate.due(20_000 + M), [['g', 0]], 'no voter needed again, only the quarantine');
  });
});

describe('heartbeats carry what the cold-start wait needs', () => {
  it('a peer reports its uptime and whether it is past its wait; the receiver dates its start', () => {
    const clock = { t: 50_000, now: () => clock.t };
    const members = [
      { name: 'n1', kind: 'node' as const },
      { name: 'n2', kind: 'node' as const },
    ];
    const n1 = new Membership({ self: 'n1', members, heartbeatMs: 75, clock });
    const n2 = new Membership({
      self: 'n2',
      members,
      heartbeatMs: 75,
      clock: { now: () => clock.t - 40_000 },
    });
    clock.t += 1200;
    const hb = n1.heartbeatFor('n2');
    assert.equal(hb.upMs, 1200);
    assert.equal(hb.settled, undefined, 'nothing said before the coordinator knows');
    n2.onHeartbeat('n1', hb);
    assert.deepEqual(n2.sightings(), [
      { name: 'n1', kind: 'node', up: true, startedAt: 10_000, settled: false },
    ]);
    n1.setSelfSettled(true);
    n2.onHeartbeat('n1', n1.heartbeatFor('n2'));
    assert.equal(n2.sightings()[0]!.settled, true);
  });
});
