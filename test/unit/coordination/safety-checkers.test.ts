import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TIMING_PROFILES } from '../../../src/coordination/timing.js';
import { findOverlaps } from '../../sim/overlaps.js';
import { Prng } from '../../sim/prng.js';
import { SimCluster } from '../../sim/sim-cluster.js';
import {
  handoverProblems,
  type OwnershipRecord,
  ownershipProblems,
} from '../../support/ownership-records.js';

/**
 * Positive controls for the safety checkers the lease tests rely on: every checker is fed
 * planted unsafe data and must report it (and must stay quiet on the safe twin), so a
 * checker that silently returns [] cannot make the simulator or the etcd tests pass.
 */

const w = (node: string, start: number, end: number, term = 1) => ({ node, term, start, end });

describe('the overlap checker', () => {
  it('reports two nodes owning at once, by how much', () => {
    const found = findOverlaps([w('n1', 0, 100, 1), w('n2', 90, 200, 2)]);
    assert.equal(found.length, 1);
    assert.match(
      found[0] ?? '',
      /two owners: n1 \(term 1\) \[0\.000, 100\.000\) overlaps n2 \(term 2\) .* by 10\.000ms/,
    );
  });

  it('reports a short window hidden inside a long one of another node, whatever the input order', () => {
    const windows = [w('n1', 0, 1000), w('n1', 1000, 2000), w('n3', 1500, 1501), w('n2', 10, 20)];
    assert.equal(findOverlaps(windows).length, 2);
    assert.equal(findOverlaps([...windows].reverse()).length, 2);
  });

  it('reports an owner whose window never ends overlapping a later owner', () => {
    assert.equal(findOverlaps([w('n1', 0, Number.POSITIVE_INFINITY), w('n2', 5000, 6000)]).length, 1);
  });

  it('accepts back-to-back windows, one node renewing, and empty windows', () => {
    assert.deepEqual(findOverlaps([w('n1', 0, 100), w('n2', 100, 200), w('n1', 200, 300)]), []);
    assert.deepEqual(findOverlaps([w('n1', 0, 100), w('n1', 50, 150)]), []);
    assert.deepEqual(findOverlaps([w('n1', 0, 100), w('n2', 50, 50)]), []);
  });
});

describe("the simulator's safety check", () => {
  it('reports a planted overlapping lease among the windows of a real run', () => {
    const sim = new SimCluster({
      timing: TIMING_PROFILES.fast,
      nodes: [
        { name: 'n1', kind: 'node', rank: 0 },
        { name: 'n2', kind: 'node', rank: 1 },
        { name: 'w', kind: 'witness', rank: null },
      ],
      clocks: {
        n1: { rate: 1, offset: 1000, wallSkewMs: 0 },
        n2: { rate: 1, offset: 2000, wallSkewMs: 0 },
        w: { rate: 1, offset: 3000, wallSkewMs: 0 },
      },
      rng: new Prng(11),
    });
    sim.start();
    sim.runUntil(1500);
    assert.deepEqual(sim.overlaps(), [], 'the real run is safe');
    const owner = sim.intervals[0];
    assert.ok(owner, 'someone acquired');
    const other = owner.node === 'n1' ? 'n2' : 'n1';
    sim.intervals.push({
      node: other,
      term: owner.term + 1,
      start: owner.start + 10,
      end: owner.start + 20,
      closedBy: null,
    });
    assert.equal(sim.overlaps().length, 1);
  });

  it('catches a real double owner when the owner breaks the clock-rate assumption', () => {
    // From 1.5 s on the owner's clock runs at half speed (far outside 1 ± ρ). Its renewals
    // then promise it a window twice as long in true time as the others grant, so once it is
    // cut off the standby takes over while the old owner still acts: a genuine overlap.
    const clocks = {
      n1: { rate: 1, offset: 1000, wallSkewMs: 0 },
      n2: { rate: 1, offset: 2000, wallSkewMs: 0 },
      w: { rate: 1, offset: 3000, wallSkewMs: 0 },
    };
    const sim = new SimCluster({
      timing: TIMING_PROFILES.fast,
      nodes: [
        { name: 'n1', kind: 'node', rank: 0 },
        { name: 'n2', kind: 'node', rank: 1 },
        { name: 'w', kind: 'witness', rank: null },
      ],
      clocks,
      rng: new Prng(12),
    });
    sim.start();
    sim.runUntil(1500);
    const [owner] = sim.ownersAt(1500).map((o) => o.node);
    assert.ok(owner === 'n1' || owner === 'n2', `one owner: ${owner}`);
    const standby = owner === 'n1' ? 'n2' : 'n1';
    const clock = clocks[owner];
    clock.offset += (clock.rate - 0.5) * sim.now; // continuous reading, slower from now on
    clock.rate = 0.5;
    sim.runUntil(1700); // renewals under the slow clock
    for (const o of [standby, 'w']) {
      sim.net.block(owner, o);
      sim.net.block(o, owner);
    }
    sim.runUntil(1700 + 10 * TIMING_PROFILES.fast.leaseMs);
    const found = sim.overlaps();
    assert.ok(
      found.some((f) => f.includes(`${owner} (term`) && f.includes(`${standby} (term`)),
      `an overlap of ${owner} and ${standby} is reported: ${found.join('; ')}`,
    );
  });
});

const rec = (node: string, type: OwnershipRecord['type'], term: string, at: number): OwnershipRecord => ({
  node,
  type,
  term,
  at,
});

describe("the etcd tests' ownership check", () => {
  it('accepts a clean hand-over with a higher term', () => {
    const records = [
      rec('n1', 'acquired', '5', 0),
      rec('n1', 'release', '5', 100),
      rec('n2', 'acquired', '9', 100),
    ];
    assert.deepEqual(ownershipProblems(records), []);
  });

  it('reports a standby acquiring while the old owner has not demoted yet', () => {
    const records = [
      rec('n1', 'acquired', '5', 0),
      rec('n2', 'acquired', '9', 50),
      rec('n1', 'demote', '5', 100),
    ];
    const problems = ownershipProblems(records);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /two owners: n1 \(term 5\).* overlaps n2 \(term 9\)/);
  });

  it('reports an owner that never demoted while another node acquired', () => {
    const records = [rec('n1', 'acquired', '5', 0), rec('n2', 'acquired', '9', 50)];
    assert.equal(ownershipProblems(records).length, 1);
  });

  it('reports a stale term, also beyond 2^53', () => {
    const stale = [
      rec('n1', 'acquired', '7', 0),
      rec('n1', 'demote', '7', 10),
      rec('n2', 'acquired', '7', 20),
    ];
    assert.deepEqual(ownershipProblems(stale), ['n2 acquired term 7, not above the earlier term 7 of n1']);
    const big = [
      rec('n1', 'acquired', '9007199254740993', 0),
      rec('n1', 'demote', '9007199254740993', 10),
      rec('n2', 'acquired', '9007199254740992', 20),
    ];
    assert.equal(ownershipProblems(big).length, 1);
  });

  it('reports a node acquiring twice without a demote in between', () => {
    const records = [rec('n1', 'acquired', '5', 0), rec('n1', 'acquired', '6', 10)];
    assert.deepEqual(ownershipProblems(records), ['n1 acquired term 6 without a demote or release before']);
  });
});

describe("the etcd agents' hand-over check", () => {
  it('accepts a stop before the grant and a higher term', () => {
    assert.deepEqual(
      handoverProblems({ stoppedAtMs: 100, grantedAtMs: 100, oldTerm: '3', newTerm: '4' }),
      [],
    );
  });

  it('reports a standby granted before the old owner stopped, and a stale term', () => {
    assert.equal(
      handoverProblems({ stoppedAtMs: 101, grantedAtMs: 100, oldTerm: '3', newTerm: '4' }).length,
      1,
    );
    assert.equal(
      handoverProblems({ stoppedAtMs: 100, grantedAtMs: 200, oldTerm: '4', newTerm: '4' }).length,
      1,
    );
    assert.equal(
      handoverProblems({ stoppedAtMs: Number.NaN, grantedAtMs: 200, oldTerm: '3', newTerm: '4' }).length,
      1,
    );
  });
});
