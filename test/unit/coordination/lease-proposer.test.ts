import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeaseAcceptor } from '../../../src/coordination/lease/acceptor.js';
import { makeBallot } from '../../../src/coordination/lease/ballot.js';
import type { LeaseMessage, Outgoing } from '../../../src/coordination/lease/messages.js';
import { BROADCAST, isAcceptorMessage } from '../../../src/coordination/lease/messages.js';
import { type LeaseEvent, LeaseProposer, type Voter } from '../../../src/coordination/lease/proposer.js';
import { leaseMath, TIMING_PROFILES } from '../../../src/coordination/timing.js';

const timing = TIMING_PROFILES.fast;
const math = leaseMath(timing);
const V = math.validityMs;
const S = timing.stopBudgetMs;
const R = timing.renewMs;
const WALL = 1_760_000_000_000;

interface Sent {
  from: string;
  to: string;
  msg: LeaseMessage;
}

/**
 * A synchronous cluster on one shared clock: messages are delivered in FIFO order with zero
 * delay when `flush` runs; `hold` keeps matching messages back so a test can deliver them late.
 */
class Cluster {
  now = 10_000;
  readonly acceptors = new Map<string, LeaseAcceptor>();
  readonly proposers = new Map<string, LeaseProposer>();
  readonly events: Array<{ node: string; ev: LeaseEvent; at: number }> = [];
  readonly log: Sent[] = [];
  held: Sent[] = [];
  drop: (s: Sent) => boolean = () => false;
  hold: (s: Sent) => boolean = () => false;
  #queue: Sent[] = [];
  readonly #voters: Voter[];

  constructor(voters: Voter[], candidates: Record<string, number | null>) {
    this.#voters = voters;
    for (const v of voters) {
      const acc = new LeaseAcceptor({ quarantineMs: math.quarantineMs });
      acc.boot(this.now - math.quarantineMs);
      this.acceptors.set(v.name, acc);
    }
    voters.forEach((v, i) => {
      const rank = candidates[v.name];
      if (rank === undefined) return;
      const p = new LeaseProposer({
        node: v.name,
        group: 'g',
        voters,
        timing,
        ballotIndex: i,
        wallClock: () => WALL + this.now,
        random: () => 0,
      });
      p.setCandidacy(rank);
      this.proposers.set(v.name, p);
    });
  }

  p(name: string): LeaseProposer {
    const p = this.proposers.get(name);
    assert.ok(p, name);
    return p;
  }

  eventsOf(node: string, type?: LeaseEvent['type']): LeaseEvent[] {
    return this.events.filter((e) => e.node === node && (!type || e.ev.type === type)).map((e) => e.ev);
  }

  send(from: string, outs: readonly Outgoing[]): void {
    for (const o of outs) {
      const targets = o.to === BROADCAST ? this.#voters.map((v) => v.name) : [o.to];
      for (const to of targets) {
        const s = { from, to, msg: o.msg };
        this.log.push(s);
        if (this.drop(s)) continue;
        if (this.hold(s)) this.held.push(s);
        else this.#queue.push(s);
      }
    }
  }

  deliver(s: Sent): void {
    if (isAcceptorMessage(s.msg)) {
      const acc = this.acceptors.get(s.to);
      if (acc) this.send(s.to, acc.handle(s.from, s.msg, this.now));
    } else {
      const p = this.proposers.get(s.to);
      if (!p) return;
      const out = p.handle(s.from, s.msg, this.now);
      this.#record(s.to, out.events);
      this.send(s.to, out.send);
    }
  }

  flush(): void {
    for (let s = this.#queue.shift(); s; s = this.#queue.shift()) this.deliver(s);
  }

  /** Proposers are told what their own node's acceptor holds (as the agent does). */
  localLease = false;

  tickAll(): void {
    for (const [name, acc] of this.acceptors) this.send(name, acc.tick(this.now));
    for (const [name, p] of this.proposers) {
      const own = this.acceptors.get(name);
      const out = p.tick(
        this.now,
        this.localLease && own ? () => own.view('g', this.now).accepted : undefined,
      );
      this.#record(name, out.events);
      this.send(name, out.send);
    }
    this.flush();
  }

  /** Advances time in 1 ms steps, ticking everything (timers) and delivering at each step. */
  advance(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + 1);
      this.tickAll();
    }
  }

  release(name: string): void {
    this.send(name, this.p(name).release(this.now).send);
    this.flush();
  }

  #record(node: string, events: readonly LeaseEvent[]): void {
    for (const ev of events) this.events.push({ node, ev, at: this.now });
  }
}

const three: Voter[] = [{ name: 'n1' }, { name: 'n2' }, { name: 'w' }];

/** n2 joins a running cluster as a proposer without candidacy yet. */
function joinN2(c: Cluster): LeaseProposer {
  const n2 = new LeaseProposer({
    node: 'n2',
    group: 'g',
    voters: three,
    timing,
    ballotIndex: 1,
    wallClock: () => WALL + c.now,
    random: () => 0,
  });
  c.proposers.set('n2', n2);
  return n2;
}

function firstPrepare(c: Cluster, from: string): number {
  const s = c.log.find((x) => x.from === from && x.msg.type === 'prepare');
  assert.ok(s && s.msg.type === 'prepare');
  return s.msg.b;
}

describe('lease proposer', () => {
  it('acquires with a majority, with term = ballot and validUntil = t0 + V from the prepare', () => {
    const c = new Cluster(three, { n1: 0 });
    const t0 = c.now;
    c.tickAll();
    const b = firstPrepare(c, 'n1');
    assert.deepEqual(c.eventsOf('n1'), [{ type: 'acquired', term: b, validUntil: t0 + V }]);
    assert.equal(c.p('n1').isOwner(c.now), true);
    assert.equal(c.p('n1').term(), b);
    const propose = c.log.find((s) => s.msg.type === 'propose')?.msg;
    assert.deepEqual(propose, { type: 'propose', g: 'g', b, owner: 'n1', term: b, durMs: timing.leaseMs });
  });

  it('renews every R and keeps the term on extension', () => {
    const c = new Cluster(three, { n1: 0 });
    c.tickAll();
    const term = c.p('n1').term();
    c.advance(5 * R + 1);
    const ext = c.eventsOf('n1', 'extended');
    assert.equal(ext.length, 5);
    for (const e of ext) assert.equal(e.type === 'extended' && e.term, term);
    assert.equal(c.p('n1').validUntil(), c.now - 1 + V);
    assert.equal(c.eventsOf('n1', 'acquired').length, 1);
  });

  it('demotes at t0 + V − S when renewals stop getting through', () => {
    const c = new Cluster(three, { n1: 0 });
    const t0 = c.now;
    c.tickAll();
    c.drop = (s) => s.from === 'n1' && s.to !== 'n1';
    c.advance(V - S - 1);
    assert.equal(c.eventsOf('n1', 'demote').length, 0);
    c.advance(1);
    assert.deepEqual(c.eventsOf('n1', 'demote'), [
      {
        type: 'demote',
        term: c.p('n1').term() ?? firstPrepare(c, 'n1'),
        reason: 'lease not extended in time',
      },
    ]);
    assert.equal(c.events.at(-1)?.at, t0 + V - S);
    assert.equal(c.p('n1').isOwner(c.now), false);
    assert.equal(c.p('n1').validUntil(), null);
  });

  it("waits out another node's lease plus its rank back-off, and reports the owner", () => {
    const c = new Cluster(three, { n1: 0 });
    c.tickAll();
    const term = c.p('n1').term();
    const n2 = joinN2(c);
    c.drop = (s) => s.from === 'n1' || s.to === 'n1'; // the owner stops renewing (crashed)
    c.advance(100);
    n2.setCandidacy(1);
    c.advance(21); // rank 1: first round 20 ms after becoming a candidate
    assert.deepEqual(c.eventsOf('n2', 'ownerSeen'), [{ type: 'ownerSeen', owner: 'n1', term }]);
    assert.equal(c.log.filter((s) => s.from === 'n2' && s.msg.type === 'propose').length, 0);
    // The lease was last accepted at 10 000 for D; n2 retries 20 ms (rank 1) after it runs out.
    const retryAt = 10_000 + timing.leaseMs + 20;
    c.advance(retryAt - 1 - c.now);
    assert.equal(c.eventsOf('n2', 'acquired').length, 0);
    c.advance(2);
    const got = c.eventsOf('n2', 'acquired');
    assert.equal(got.length, 1);
    assert.ok(got[0]?.type === 'acquired' && term !== null && got[0].term > term, 'terms increase');
  });

  it("sends no PREPARE while its own acceptor holds another node's live lease, and takes over when it ends", () => {
    const c = new Cluster(three, { n1: 0 });
    c.localLease = true;
    c.tickAll();
    const term = c.p('n1').term();
    const n2 = joinN2(c);
    n2.setCandidacy(1);
    c.advance(10 * timing.leaseMs); // the owner renews all along
    const prepares = () => c.log.filter((s) => s.from === 'n2' && s.msg.type === 'prepare').length;
    assert.equal(prepares(), 0, 'a standby asked the voters about a lease its own acceptor holds');
    assert.deepEqual(c.eventsOf('n2', 'ownerSeen'), [{ type: 'ownerSeen', owner: 'n1', term }]);
    c.drop = (s) => s.from === 'n1' || s.to === 'n1'; // the owner crashes
    c.advance(timing.leaseMs + 50);
    assert.equal(c.eventsOf('n2', 'acquired').length, 1);
    assert.ok(prepares() >= 1);
  });

  it("demotes at once when a renewal reveals another node's lease", () => {
    const c = new Cluster(three, { n1: 0 });
    c.tickAll();
    // A stray higher-ballot lease of n2 at two acceptors (e.g. a rival's round that got through).
    const rival = makeBallot(WALL + c.now + 1, 1);
    for (const name of ['n2', 'w']) {
      c.acceptors
        .get(name)
        ?.handle('n2', { type: 'propose', g: 'g', b: rival, owner: 'n2', term: rival, durMs: 500 }, c.now);
    }
    c.advance(R + 1);
    const demotes = c.eventsOf('n1', 'demote');
    assert.equal(demotes.length, 1);
    assert.match(demotes[0]?.type === 'demote' ? demotes[0].reason : '', /n2 holds the lease/);
    assert.equal(c.p('n1').isOwner(c.now), false);
  });

  it("keeps its lease when one acceptor still holds a rival's lease under a lower term", () => {
    // After a heal both nodes raced: n2's PROPOSE (lower ballot) reached only n2's own acceptor
    // before w promised n1's higher ballot, so n1 won with {n1, w}. n2's acceptor keeps n2's
    // lease until it runs out; n1's renewals must not hand the group over because of it.
    const rival = makeBallot(WALL + 10_000 - 1, 1);
    const c = new Cluster(three, { n1: 0 });
    c.acceptors
      .get('n2')
      ?.handle('n2', { type: 'propose', g: 'g', b: rival, owner: 'n2', term: rival, durMs: 500 }, c.now);
    c.drop = (s) => s.from !== s.to && (s.from === 'n2' || s.to === 'n2'); // n1 wins with {n1, w}
    c.tickAll();
    const term = c.p('n1').term();
    assert.ok(term !== null && term > rival, 'n1 acquired above the remnant');
    c.drop = () => false;
    c.advance(3 * R + 1);
    assert.deepEqual(c.eventsOf('n1', 'demote'), []);
    assert.equal(c.eventsOf('n1', 'extended').length, 3);
    assert.equal(c.p('n1').term(), term);
  });

  it('repeats a lost PREPARE and PROPOSE after R/3 to the silent voters only, same ballot', () => {
    const c = new Cluster(three, { n1: 0 });
    const gap = R / 3;
    // The first PREPARE and the first PROPOSE to n2 and w are lost; repeats get through.
    const lost = new Set<string>();
    c.drop = (s) => {
      if (s.from !== 'n1' || s.to === 'n1') return false;
      const key = `${s.msg.type}>${s.to}`;
      if (lost.has(key)) return false;
      lost.add(key);
      return true;
    };
    const t0 = c.now;
    c.tickAll();
    const b = firstPrepare(c, 'n1');
    assert.equal(c.eventsOf('n1', 'acquired').length, 0);
    c.advance(Math.ceil(gap) - 1);
    assert.equal(c.log.filter((s) => s.msg.type === 'prepare').length, 3, 'no repeat before R/3');
    c.advance(1);
    const prepares = c.log.filter((s) => s.msg.type === 'prepare');
    assert.deepEqual(
      prepares.slice(3).map((s) => [s.to, s.msg.type === 'prepare' && s.msg.b]),
      [
        ['n2', b],
        ['w', b],
      ],
    );
    c.advance(Math.ceil(gap));
    assert.deepEqual(c.eventsOf('n1', 'acquired'), [{ type: 'acquired', term: b, validUntil: t0 + V }]);
    const proposes = c.log.filter((s) => s.msg.type === 'propose');
    assert.ok(proposes.every((s) => s.msg.type === 'propose' && s.msg.b === b));
    // The acquisition round stopped repeating once it had its majority (until the renewal at R).
    const after = c.log.length;
    c.advance(t0 + R - 1 - c.now);
    assert.equal(c.log.slice(after).filter((s) => s.from === 'n1').length, 0);
  });

  it("keeps the owner's renewals going when a rival's PREPARE reaches the acceptors during its lease", () => {
    const c = new Cluster(three, { n1: 0 });
    c.tickAll();
    const term = c.p('n1').term();
    // n2 cannot hear n1 and keeps preparing with ballots far above n1's.
    const rival = makeBallot(WALL + c.now + 60_000, 1);
    for (const to of ['n1', 'w']) {
      const out = c.acceptors.get(to)?.handle('n2', { type: 'prepare', g: 'g', b: rival }, c.now) ?? [];
      assert.equal(out[0]?.msg.type, 'promise', 'answered, with the live lease in it');
    }
    c.advance(3 * R + 1);
    assert.equal(c.eventsOf('n1', 'demote').length, 0);
    assert.equal(c.eventsOf('n1', 'extended').length, 3);
    assert.equal(c.p('n1').term(), term);
    assert.equal(
      c.log.filter((s) => s.msg.type === 'nack').length,
      0,
      'no renewal was refused because of the rival',
    );
  });

  it('raises its ballot above a NACK and retries after back-off', () => {
    const c = new Cluster(three, { n1: 0 });
    const high = makeBallot(WALL + c.now + 60_000, 2);
    for (const acc of c.acceptors.values()) acc.handle('w', { type: 'prepare', g: 'g', b: high }, c.now);
    c.tickAll();
    assert.equal(c.eventsOf('n1', 'acquired').length, 0);
    assert.ok(c.log.some((s) => s.msg.type === 'nack'));
    c.advance(5);
    const acq = c.eventsOf('n1', 'acquired');
    assert.equal(acq.length, 1);
    assert.ok(acq[0]?.type === 'acquired' && acq[0].term > high);
  });

  it('ignores promises and accepts that arrive for an abandoned ballot', () => {
    const c = new Cluster(three, { n1: 0 });
    c.hold = (s) => s.msg.type === 'accepted' && s.to === 'n1' && s.from !== 'n1';
    c.tickAll();
    const first = firstPrepare(c, 'n1');
    assert.equal(c.held.length, 2);
    const late = c.held;
    c.held = [];
    c.hold = (s) => s.from !== 'n1' && s.to === 'n1'; // the next round hears nothing either
    c.advance(2 * R + 1); // round times out, a new one starts
    assert.ok(c.log.some((s) => s.msg.type === 'prepare' && s.msg.b > first));
    for (const s of late) c.deliver(s);
    assert.equal(c.eventsOf('n1', 'acquired').length, 0);
  });

  it('treats a round whose majority arrives after its demote point as failed', () => {
    const c = new Cluster(three, { n1: 0 });
    c.hold = (s) => s.msg.type === 'accepted' && s.to === 'n1' && s.from !== 'n1';
    c.tickAll();
    c.now += V - S; // no tick in between: the replies are simply very late
    for (const s of c.held) c.deliver(s);
    assert.equal(c.eventsOf('n1', 'acquired').length, 0);
    assert.equal(c.p('n1').isOwner(c.now), false);
  });

  it('backs candidates off by rank × 20 ms', () => {
    const c = new Cluster([{ name: 'n1' }, { name: 'n2' }, { name: 'n3' }], { n1: 0, n2: 1, n3: 2 });
    const sent = [...c.proposers.values()].flatMap((p) => p.tick(c.now).send);
    assert.deepEqual(
      sent.map((o) => o.msg.type),
      ['prepare'],
      'only rank 0 starts at once',
    );
    assert.equal(c.p('n2').nextWakeAt(), c.now + 20);
    assert.equal(c.p('n3').nextWakeAt(), c.now + 40);
  });

  it('counts vote weights: a weight-2 voter is a majority of three', () => {
    const c = new Cluster([{ name: 'n1', weight: 2 }, { name: 'n2' }], { n1: 0 });
    c.drop = (s) => s.from !== s.to;
    c.tickAll();
    assert.equal(c.eventsOf('n1', 'acquired').length, 1);
    const c2 = new Cluster([{ name: 'n1' }, { name: 'n2', weight: 2 }], { n1: 0 });
    c2.drop = (s) => s.from !== s.to;
    c2.advance(3 * R);
    assert.equal(c2.eventsOf('n1', 'acquired').length, 0);
  });

  it('hands the lease over at once on release, and the next term is higher', () => {
    const c = new Cluster(three, { n1: 0, n2: 1 });
    c.tickAll();
    c.advance(50);
    const t1 = c.p('n1').term();
    assert.ok(t1 !== null);
    assert.equal(c.eventsOf('n2', 'acquired').length, 0);
    c.release('n1');
    assert.equal(c.p('n1').isOwner(c.now), false);
    assert.equal(c.p('n1').candidacy(), null);
    assert.ok(c.log.some((s) => s.msg.type === 'release' && s.msg.term === t1));
    // EXPIRED pushes wake n2, which acquires after its 20 ms rank back-off, not after D.
    c.advance(21);
    const acq = c.eventsOf('n2', 'acquired');
    assert.equal(acq.length, 1);
    assert.ok(acq[0]?.type === 'acquired' && acq[0].term > t1);
    // n1 does not grab it back: it gave up its candidacy.
    c.advance(3 * R);
    assert.equal(c.eventsOf('n1', 'acquired').length, 1);
  });

  it('hands a fresh lease straight back if candidacy was withdrawn during the round', () => {
    const c = new Cluster(three, { n1: 0 });
    c.hold = (s) => s.msg.type === 'accepted' && s.to === 'n1';
    c.tickAll();
    c.p('n1').setCandidacy(null);
    c.hold = () => false;
    for (const s of c.held) c.deliver(s);
    c.flush();
    assert.equal(c.eventsOf('n1', 'acquired').length, 0);
    assert.ok(c.log.some((s) => s.msg.type === 'release'));
    for (const acc of c.acceptors.values()) assert.equal(acc.view('g', c.now).accepted, null);
  });

  it('keeps renewing a held lease after candidacy is withdrawn, until released', () => {
    const c = new Cluster(three, { n1: 0 });
    c.tickAll();
    c.p('n1').setCandidacy(null);
    c.advance(3 * R + 1);
    assert.equal(c.eventsOf('n1', 'extended').length, 3);
    assert.equal(c.p('n1').isOwner(c.now), true);
  });
});
