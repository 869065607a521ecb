import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EtcdCommand, EtcdOutput } from '../../../src/coordination/etcd/etcd-commands.js';
import { EtcdCore, RANK_STEP_MS } from '../../../src/coordination/etcd/etcd-core.js';
import { EtcdKeys } from '../../../src/coordination/etcd/etcd-keys.js';
import type { KeyValue } from '../../../src/coordination/etcd/etcd-mirror.js';
import { etcdTiming } from '../../../src/coordination/etcd/etcd-timing.js';
import type { CoreEvent } from '../../../src/coordination/shell/coordinator-shell.js';
import { TIMING_PROFILES } from '../../../src/coordination/timing.js';
import { FakeTimers } from '../../support/fake-timers.js';

const timing = etcdTiming(TIMING_PROFILES.fast);
const V = timing.math.validityMs;
const S = timing.stopBudgetMs;
const keys = new EtcdKeys('/halo');
const GROUP_KEY = keys.group('g');

/**
 * One etcd core on a fake clock, with the shell's part played by the test: rank back-off
 * timers run on FakeTimers, every other command is recorded for the test to answer.
 */
class Driver {
  readonly clock = new FakeTimers();
  readonly core: EtcdCore;
  readonly commands: Array<{ at: number; c: EtcdCommand }> = [];
  readonly events: Array<{ at: number; e: CoreEvent }> = [];

  constructor(node = 'n1') {
    this.core = new EtcdCore({
      node,
      bootId: `boot-${node}`,
      epoch: 1,
      groups: [{ name: 'g', nodes: ['n1', 'n2', 'n3'] }],
      nodes: ['n1', 'n2', 'n3'],
      timing,
      keys,
    });
    this.apply(this.core.begin(1, [], this.now));
  }

  get now(): number {
    return this.clock.now();
  }

  apply(out: EtcdOutput): EtcdOutput {
    for (const c of out.commands) {
      this.commands.push({ at: this.now, c });
      if (c.type === 'schedule-acquire')
        this.clock.setTimeout(() => this.apply(this.core.acquireDue(c.group, this.now)), c.delayMs);
    }
    for (const e of out.events) this.events.push({ at: this.now, e });
    return out;
  }

  of<T extends EtcdCommand['type']>(type: T): Array<{ at: number; c: Extract<EtcdCommand, { type: T }> }> {
    return this.commands.filter((x) => x.c.type === type) as Array<{
      at: number;
      c: Extract<EtcdCommand, { type: T }>;
    }>;
  }

  eventsOf<T extends CoreEvent['type']>(type: T): Array<Extract<CoreEvent, { type: T }>> {
    return this.events.map((x) => x.e).filter((e) => e.type === type) as Array<
      Extract<CoreEvent, { type: T }>
    >;
  }

  /** A lease granted by a keepalive sent now. */
  grant(id = 'L1'): void {
    this.apply(this.core.onLeaseGranted({ id, validUntil: this.now + V }, this.now));
  }

  /** Candidacy, rank timer, create-if-absent answered "created" with `term`. */
  async acquire(rank: number, term: string): Promise<void> {
    this.apply(this.core.setCandidacy('g', rank));
    await this.clock.advance(rank * RANK_STEP_MS);
    const attempt = this.of('acquire').at(-1);
    assert.ok(attempt, 'an acquire transaction was asked for');
    this.apply(this.core.onAcquired('g', attempt.c.leaseId, { kind: 'created', term }, this.now));
  }
}

function groupKv(owner: string, term: number, lease: string, mod = term): KeyValue {
  return {
    key: GROUP_KEY,
    value: JSON.stringify({ node: owner, bootId: `boot-${owner}` }),
    createRevision: String(term),
    modRevision: mod,
    lease,
  };
}

describe('etcd core: the owner deadline', () => {
  it('an owner whose keepalives go unanswered demotes at V − S after the last answered one, and gives the lease up', async () => {
    const d = new Driver();
    d.grant();
    await d.acquire(0, '5');
    assert.deepEqual(d.eventsOf('acquired'), [{ type: 'acquired', group: 'g', term: '5' }]);
    const lastAnswered = d.now;
    await d.clock.advance(V - S - 1);
    d.apply(d.core.tick(d.now));
    assert.equal(d.eventsOf('demote').length, 0, 'still inside the window');
    await d.clock.advance(1);
    d.apply(d.core.tick(d.now));
    const [demote] = d.eventsOf('demote');
    assert.equal(demote?.term, '5');
    assert.match(demote?.reason ?? '', /etcd unreachable/);
    assert.equal(d.now, lastAnswered + V - S);
    assert.equal(d.of('poison-lease').length, 1);
    assert.equal(d.core.isActive('g'), false);
  });

  it('an answered keepalive moves the deadline and re-arms the deadman helper with it', async () => {
    const d = new Driver();
    d.grant();
    await d.acquire(0, '5');
    const armsBefore = d.of('arm').length;
    await d.clock.advance(timing.renewMs);
    d.apply(d.core.onLeaseRenewed({ id: 'L1', validUntil: d.now + V }, d.now));
    const arm = d.of('arm').at(-1);
    assert.equal(d.of('arm').length, armsBefore + 1);
    assert.equal(arm?.c.deadlineMonoMs, d.now + timing.math.deadmanAtMs);
    await d.clock.advance(V - S - 1);
    d.apply(d.core.tick(d.now));
    assert.equal(d.eventsOf('demote').length, 0, 'the renewal bought a new window');
  });

  it('a held key is not announced when too little of the lease is left to stop safely', async () => {
    const d = new Driver();
    d.grant();
    d.apply(d.core.setCandidacy('g', 0));
    await d.clock.advance(0);
    const attempt = d.of('acquire')[0];
    assert.ok(attempt);
    await d.clock.advance(V - S);
    d.apply(d.core.onAcquired('g', attempt.c.leaseId, { kind: 'created', term: '7' }, d.now));
    assert.equal(d.eventsOf('acquired').length, 0);
  });
});

describe('etcd core: rank back-off', () => {
  it('a candidate of rank r asks for the key r × 20 ms after the group becomes free', async () => {
    const d = new Driver();
    d.grant();
    d.apply(d.core.onPut(groupKv('n2', 3, 'other'), 3, d.now));
    d.apply(d.core.setCandidacy('g', 2));
    await d.clock.advance(1000);
    assert.equal(d.of('acquire').length, 0, 'no attempt while another node owns the group');
    const freedAt = d.now;
    d.apply(d.core.onDelete(GROUP_KEY, 4, d.now));
    await d.clock.advance(2 * RANK_STEP_MS - 1);
    assert.equal(d.of('acquire').length, 0, 'still backing off');
    await d.clock.advance(1);
    assert.deepEqual(
      d.of('acquire').map((x) => x.at - freedAt),
      [2 * RANK_STEP_MS],
    );
  });

  it('the preferred candidate tries first, and the other stands down once it sees the new owner', async () => {
    const preferred = new Driver('n1');
    const other = new Driver('n2');
    for (const d of [preferred, other]) d.grant();
    preferred.apply(preferred.core.setCandidacy('g', 0));
    other.apply(other.core.setCandidacy('g', 1));
    await preferred.clock.advance(0);
    assert.equal(preferred.of('acquire').length, 1);
    await other.clock.advance(RANK_STEP_MS - 1);
    // The winner's key shows up on the loser's watch before its back-off ends.
    other.apply(other.core.onPut(groupKv('n1', 9, 'L1'), 9, other.now));
    await other.clock.advance(1);
    assert.equal(other.of('acquire').length, 0);
  });
});

describe('etcd core: lease and key changes', () => {
  it('etcd reporting the lease gone demotes every group held under it at once', async () => {
    const d = new Driver();
    d.grant();
    await d.acquire(0, '5');
    d.apply(d.core.onLeaseLost('L1'));
    assert.deepEqual(
      d.eventsOf('demote').map((e) => e.reason),
      ['etcd expired our lease'],
    );
    assert.equal(d.core.busy(), false);
  });

  it('a watch event showing another term for a held group demotes it', async () => {
    const d = new Driver();
    d.grant();
    await d.acquire(0, '5');
    d.apply(d.core.onPut(groupKv('n2', 8, 'other'), 8, d.now));
    assert.match(d.eventsOf('demote')[0]?.reason ?? '', /term 8 .* ours was 5/);
    assert.deepEqual(d.eventsOf('owner').at(-1), { type: 'owner', group: 'g', owner: 'n2', term: '8' });
  });

  it('a stale full read does not bring back a key a newer watch event deleted', async () => {
    const d = new Driver();
    d.grant();
    await d.acquire(0, '5');
    d.apply(d.core.onDelete(GROUP_KEY, 10, d.now));
    assert.equal(d.eventsOf('demote').length, 1);
    const ownersBefore = d.eventsOf('owner').length;
    // A read that started before the delete answers late, still showing our key.
    d.apply(d.core.onSnapshot(9, [groupKv('n1', 5, 'L1')], d.now));
    assert.equal(d.eventsOf('owner').length, ownersBefore, 'owner view unchanged');
    assert.equal(d.eventsOf('acquired').length, 1, 'not re-acquired from stale data');
  });

  it('a full read without a known key counts as its deletion at the read revision', async () => {
    const d = new Driver();
    d.grant();
    d.apply(d.core.onPut(groupKv('n2', 3, 'other'), 3, d.now));
    d.apply(d.core.onSnapshot(4, [], d.now));
    assert.deepEqual(d.eventsOf('owner').at(-1), { type: 'owner', group: 'g', owner: null, term: null });
  });

  it('a key created under our lease whose answer was lost is adopted from the watch', async () => {
    const d = new Driver();
    d.grant();
    d.apply(d.core.setCandidacy('g', 0));
    await d.clock.advance(0);
    d.apply(d.core.onPut(groupKv('n1', 6, 'L1'), 6, d.now));
    assert.deepEqual(d.eventsOf('acquired'), [{ type: 'acquired', group: 'g', term: '6' }]);
  });

  it('a config epoch change seen in etcd stops every new acquisition', async () => {
    const d = new Driver();
    d.grant();
    d.apply(
      d.core.onPut(
        { key: keys.epoch(), value: '2', createRevision: '1', modRevision: 3, lease: '0' },
        3,
        d.now,
      ),
    );
    d.apply(d.core.setCandidacy('g', 0));
    await d.clock.advance(100);
    assert.equal(d.of('acquire').length, 0);
    assert.equal(d.core.mirror.epochMismatch !== null, true);
  });

  it('a failed release delete is retried after the next full read, and not after it succeeds', async () => {
    const d = new Driver();
    d.grant();
    await d.acquire(0, '5');
    const { term } = d.core.release('g');
    assert.equal(term, '5');
    d.apply(d.core.onDeleted('g', '5', false));
    d.apply(d.core.onSnapshot(6, [], d.now));
    assert.deepEqual(
      d.of('delete-key').map((x) => x.c.term),
      ['5'],
    );
    d.apply(d.core.onDeleted('g', '5', true));
    d.apply(d.core.onPollDone());
    d.apply(d.core.onSnapshot(7, [], d.now));
    assert.equal(d.of('delete-key').length, 1);
  });
});

describe('etcd core: the takeover guard', () => {
  const TTL_MS = timing.ttlSec * 1000;
  const releasedKv = (term: string, rev: number): KeyValue => ({
    key: keys.released('g'),
    value: term,
    createRevision: String(rev),
    modRevision: rev,
    lease: '0',
  });

  /** n2, rank 1, watching n1 own the group with term 3; the lease renewed every period. */
  async function standby(): Promise<Driver> {
    const d = new Driver('n2');
    d.grant('L2');
    d.apply(d.core.onPut(groupKv('n1', 3, 'L1'), 3, d.now));
    d.apply(d.core.setCandidacy('g', 1));
    return d;
  }

  /** Keeps n2's lease answered and the core ticking for `ms`. */
  async function runFor(d: Driver, ms: number): Promise<void> {
    const until = d.now + ms;
    while (d.now < until) {
      await d.clock.advance(Math.min(timing.renewMs / 4, until - d.now));
      d.apply(d.core.onLeaseRenewed({ id: 'L2', validUntil: d.now + V }, d.now));
      d.apply(d.core.tick(d.now));
    }
  }

  async function takeKey(d: Driver, term: string): Promise<void> {
    await d.clock.advance(RANK_STEP_MS);
    const attempt = d.of('acquire').at(-1);
    assert.ok(attempt, 'the key is taken at once');
    d.apply(d.core.onAcquired('g', attempt.c.leaseId, { kind: 'created', term }, d.now));
  }

  it('a key that vanished without a release is taken at once but announced one whole lease later', async () => {
    const d = await standby();
    const goneAt = d.now;
    d.apply(d.core.onDelete(GROUP_KEY, 4, d.now));
    await takeKey(d, '5');
    assert.equal(d.eventsOf('acquired').length, 0, 'the old owner may still believe it owns g');
    await runFor(d, goneAt + TTL_MS - 1 - d.now);
    assert.equal(d.eventsOf('acquired').length, 0, 'not before one TTL has passed');
    await runFor(d, timing.renewMs / 4);
    assert.deepEqual(d.eventsOf('acquired'), [{ type: 'acquired', group: 'g', term: '5' }]);
    const at = d.events.find((x) => x.e.type === 'acquired')?.at ?? 0;
    assert.ok(at >= goneAt + TTL_MS, `announced ${at - goneAt}ms after the key vanished`);
  });

  it('a release recorded with the deletion hands the group over at once', async () => {
    const d = await standby();
    d.apply(d.core.onPut(releasedKv('3', 4), 4, d.now));
    d.apply(d.core.onDelete(GROUP_KEY, 4, d.now));
    await takeKey(d, '5');
    assert.deepEqual(d.eventsOf('acquired'), [{ type: 'acquired', group: 'g', term: '5' }]);
  });

  it('a release seen after the deletion it explains lifts the guard', async () => {
    const d = await standby();
    d.apply(d.core.onDelete(GROUP_KEY, 4, d.now));
    await takeKey(d, '5');
    assert.equal(d.eventsOf('acquired').length, 0);
    d.apply(d.core.onPut(releasedKv('3', 4), 4, d.now));
    assert.deepEqual(d.eventsOf('acquired'), [{ type: 'acquired', group: 'g', term: '5' }]);
  });

  it('a release of an older term does not lift the guard', async () => {
    const d = await standby();
    d.apply(d.core.onPut(releasedKv('2', 2), 2, d.now));
    d.apply(d.core.onDelete(GROUP_KEY, 4, d.now));
    await takeKey(d, '5');
    await runFor(d, TTL_MS / 2);
    assert.equal(d.eventsOf('acquired').length, 0);
  });

  it('a full read that no longer shows the key guards the takeover too', async () => {
    const d = await standby();
    d.apply(d.core.onSnapshot(6, [], d.now));
    await takeKey(d, '7');
    assert.equal(d.eventsOf('acquired').length, 0);
  });
});

describe('etcd core: the deadman helper', () => {
  it('a node whose helper is down asks for no key, and competes again once a helper is back', async () => {
    const d = new Driver();
    d.grant();
    d.apply(d.core.setFenceable(false));
    d.apply(d.core.setCandidacy('g', 0));
    await d.clock.advance(5 * RANK_STEP_MS);
    assert.equal(d.of('acquire').length, 0);
    d.apply(d.core.setFenceable(true));
    await d.clock.advance(0);
    assert.equal(d.of('acquire').length, 1);
  });

  it('a key won just as the helper died is given back instead of announced', async () => {
    const d = new Driver();
    d.grant();
    d.apply(d.core.setCandidacy('g', 0));
    await d.clock.advance(0);
    const attempt = d.of('acquire')[0];
    assert.ok(attempt);
    d.apply(d.core.setFenceable(false));
    d.apply(d.core.onAcquired('g', attempt.c.leaseId, { kind: 'created', term: '7' }, d.now));
    assert.equal(d.eventsOf('acquired').length, 0);
    assert.deepEqual(
      d.of('delete-key').map((x) => x.c.term),
      ['7'],
    );
  });

  it('an owner left without cover demotes and moves its key to the throwaway lease, keeping its candidacy', async () => {
    const d = new Driver();
    d.grant();
    await d.acquire(0, '5');
    d.apply(d.core.unfenced('g'));
    const [demote] = d.eventsOf('demote');
    assert.equal(demote?.term, '5');
    assert.match(demote?.reason ?? '', /deadman helper is not running/);
    assert.equal(d.core.isActive('g'), false);
    assert.deepEqual(
      d.of('move-abandoned').map((x) => x.c.term),
      ['5'],
    );
    // Renewals of the etcd lease no longer re-arm or re-announce the group.
    const arms = d.of('arm').length;
    d.apply(d.core.onLeaseRenewed({ id: 'L1', validUntil: d.now + V }, d.now));
    assert.equal(d.of('arm').length, arms);
    assert.equal(d.eventsOf('acquired').length, 1);
    // Once the key is gone the node tries again.
    d.apply(d.core.onDelete(GROUP_KEY, 9, d.now));
    await d.clock.advance(0);
    assert.equal(d.of('acquire').length, 2);
  });
});
