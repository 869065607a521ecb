import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HaloConfig } from '../../src/config/model.js';
import { EtcdCoordinator } from '../../src/coordination/etcd/etcd-coordinator.js';
import { etcdTiming } from '../../src/coordination/etcd/etcd-timing.js';
import { TIMING_PROFILES } from '../../src/coordination/timing.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { monotonicClock } from '../../src/util/clock.js';
import { type EtcdCluster, etcdAvailable, startEtcdCluster, TcpProxy } from '../support/etcd-cluster.js';

/**
 * The etcd backend against a real 3-member etcd on loopback (COORDINATION.md fault scenario
 * 24): two agents' coordinators run in this process, each reaching etcd through its own TCP
 * proxies, with a tiny engine stand-in that records when each node believed it owned the
 * group. Pass criteria: never two owners with overlapping windows, a cut-off owner demotes
 * by its deadline, terms strictly increase.
 */

const skip = etcdAvailable() ? false : 'etcd is not installed (/usr/bin/etcd)';
const timing = TIMING_PROFILES.default;
const et = etcdTiming(timing);
const log = process.env['HALO_TEST_LOG']
  ? createLogger({ level: process.env['HALO_TEST_LOG'] })
  : silentLogger;

interface Record_ {
  node: string;
  type: 'acquired' | 'demote' | 'release';
  term: string;
  at: number;
}

interface Agent {
  name: string;
  coordinator: EtcdCoordinator;
  proxies: TcpProxy[];
  cut(): void;
  heal(): void;
  release(): Promise<void>;
}

interface Harness {
  etcd: EtcdCluster;
  agents: Record<string, Agent>;
  records: Record_[];
  owners(): string[];
  /** Waits for the first owner; returns [owner, the other agent]. */
  firstOwner(): Promise<[Agent, Agent]>;
  waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs?: number): Promise<T>;
}

function configFor(endpoints: string[], prefix: string): HaloConfig {
  return {
    file: '/dev/null',
    epoch: 42,
    cluster: {
      name: 'it',
      secretFile: '/dev/null',
      timing,
      coordination: { type: 'etcd', endpoints, prefix },
      api: { port: 0, host: '127.0.0.1' },
      keepalive: { idleMs: 1000, intervalMs: 1000, count: 3 },
      unsafe: false,
    },
    nodes: ['n1', 'n2'].map((name) => ({
      name,
      address: '127.0.0.1',
      peerPort: 1,
      apiPort: 1,
      links: ['127.0.0.1'],
      weight: 1,
    })),
    groups: [
      { name: 'g', nodes: ['n1', 'n2'], autoFailback: false, fencing: 'lease', resources: [], monitors: [] },
    ],
    monitors: [],
  };
}

async function harness(t: TestContext, opts: { deadman?: boolean } = {}): Promise<Harness> {
  const etcd = await startEtcdCluster(t);
  const records: Record_[] = [];
  const agents: Record<string, Agent> = {};
  const prefix = `/halo-it-${process.pid}`;
  for (const [i, name] of ['n1', 'n2'].entries()) {
    const proxies = etcd.endpoints.map((e) => new TcpProxy(e));
    for (const p of proxies) await p.start();
    const coordinator = new EtcdCoordinator({
      config: configFor(
        proxies.map((p) => p.url),
        prefix,
      ),
      node: name,
      key: Buffer.alloc(32, 7),
      log: log.child({ node: name }),
      deadman: opts.deadman ?? false,
    });
    coordinator.on((e) => {
      if (e.type === 'acquired' || e.type === 'demote')
        records.push({ node: name, type: e.type, term: e.term, at: monotonicClock.now() });
    });
    // Stop the coordinator first (it revokes its lease through the proxies), then the proxies.
    t.after(async () => {
      await coordinator.stop();
      await Promise.all(proxies.map((p) => p.stop()));
    });
    await coordinator.start();
    agents[name] = {
      name,
      coordinator,
      proxies,
      cut: () => {
        for (const p of proxies) p.cut();
      },
      heal: () => {
        for (const p of proxies) p.heal();
      },
      async release() {
        const held = currentTerm(records, name);
        if (held) records.push({ node: name, type: 'release', term: held, at: monotonicClock.now() });
        await coordinator.release('g');
      },
    };
    coordinator.setCandidacy('g', i);
  }
  const h: Harness = {
    etcd,
    agents,
    records,
    owners: () => ['n1', 'n2'].filter((n) => currentTerm(records, n) !== null),
    async firstOwner() {
      const owner = await h.waitFor('an owner', () => h.owners()[0]);
      return [agents[owner]!, agents[owner === 'n1' ? 'n2' : 'n1']!];
    },
    async waitFor(what, probe, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const v = probe();
        if (v !== undefined && v !== false) return v;
        if (Date.now() > until)
          throw new Error(`timed out waiting for ${what}; records: ${JSON.stringify(records)}`);
        await sleep(20);
      }
    },
  };
  return h;
}

/** The term `node` currently believes it owns, or null. */
function currentTerm(records: Record_[], node: string): string | null {
  let term: string | null = null;
  for (const r of records) {
    if (r.node !== node) continue;
    term = r.type === 'acquired' ? r.term : null;
  }
  return term;
}

/** Ownership windows: from `acquired` to the next `demote`/`release` of the same node. */
function windows(records: Record_[]): Array<{ node: string; term: string; from: number; to: number }> {
  const out: Array<{ node: string; term: string; from: number; to: number }> = [];
  const open = new Map<string, { term: string; from: number }>();
  for (const r of records) {
    const o = open.get(r.node);
    if (r.type === 'acquired') {
      assert.equal(o, undefined, `${r.node} acquired twice without a demote in between`);
      open.set(r.node, { term: r.term, from: r.at });
    } else if (o) {
      out.push({ node: r.node, term: o.term, from: o.from, to: r.at });
      open.delete(r.node);
    }
  }
  for (const [node, o] of open) out.push({ node, term: o.term, from: o.from, to: Number.POSITIVE_INFINITY });
  return out;
}

function assertSafe(records: Record_[], t?: TestContext): void {
  t?.diagnostic(`ownership: ${records.map((r) => `${r.node} ${r.type} ${r.term}`).join(' · ')}`);
  const ws = windows(records);
  for (const a of ws)
    for (const b of ws)
      if (a !== b && a.node !== b.node)
        assert.ok(a.to <= b.from || b.to <= a.from, `overlapping owners: ${JSON.stringify([a, b])}`);
  const terms = records.filter((r) => r.type === 'acquired').map((r) => BigInt(r.term));
  for (let i = 1; i < terms.length; i++)
    assert.ok(terms[i]! > terms[i - 1]!, `terms must strictly increase: ${terms.join(', ')}`);
}

test('one agent acquires, a release hands the group over, intent and status reach the other agent', {
  skip,
}, async (t) => {
  const h = await harness(t);
  const [n1, n2] = await h.firstOwner();
  await h.waitFor('the standby sees the owner', () => n2.coordinator.view().leases[0]?.owner === n1.name);

  await n1.coordinator.updateIntent({ 'group/g/state': 'started' });
  await h.waitFor('intent reaches n2', () => n2.coordinator.intent()['group/g/state']?.value === 'started');

  n1.coordinator.setNodeStatus({ eligible: false, reasons: ['disk full'] });
  await h.waitFor('the standby sees the owner ineligible', () => {
    const m = n2.coordinator.view().members.find((x) => x.name === n1.name);
    return m?.up === true && m.eligible === false && m.reasons[0] === 'disk full';
  });

  const before = monotonicClock.now();
  await n1.release();
  await h.waitFor('the standby owns g', () => h.owners().join() === n2.name);
  const took = monotonicClock.now() - before;
  assert.ok(
    took < 2000,
    `a planned release hands over at once, not after a TTL (took ${Math.round(took)}ms)`,
  );
  assertSafe(h.records, t);
});

test('an owner cut off from etcd demotes by its deadline and the standby takes over with a higher term', {
  skip,
}, async (t) => {
  const h = await harness(t, { deadman: true });
  const [n1, n2] = await h.firstOwner();
  await sleep(500);
  const cutAt = monotonicClock.now();
  n1.cut();
  const demote = await h.waitFor('the owner demotes', () =>
    h.records.find((r) => r.node === n1.name && r.type === 'demote'),
  );
  assert.ok(
    demote.at <= cutAt + et.math.validityMs,
    `the owner demoted ${Math.round(demote.at - cutAt)}ms after the cut; its lease is valid for at most ${Math.round(et.math.validityMs)}ms`,
  );
  await h.waitFor('the standby owns g', () => h.owners().join() === n2.name, 20_000);
  assertSafe(h.records);

  n1.heal();
  await sleep(3000);
  assert.equal(h.owners().join(), n2.name, 'the healed node does not take the group back');
  assertSafe(h.records, t);
});

test('killing the etcd leader never gives two owners and leaves exactly one', { skip }, async (t) => {
  const h = await harness(t);
  await h.firstOwner();
  const leader = await h.etcd.leader();
  await h.etcd.kill(leader);
  await sleep(4000);
  await h.waitFor('one owner', () => h.owners().length === 1, 20_000);
  assertSafe(h.records);
  await h.etcd.restart(leader);
  await h.etcd.waitHealthy();
  await sleep(2000);
  assert.equal(h.owners().length, 1);
  assertSafe(h.records, t);
});

test('freezing every etcd member makes the owner demote by its deadline; after the thaw one owner returns', {
  skip,
}, async (t) => {
  const h = await harness(t);
  const [n1] = await h.firstOwner();
  await sleep(500);
  const frozenAt = monotonicClock.now();
  for (const m of h.etcd.members) h.etcd.freeze(m.name);
  const demote = await h.waitFor('the owner demotes', () =>
    h.records.find((r) => r.node === n1.name && r.type === 'demote'),
  );
  assert.ok(
    demote.at <= frozenAt + et.math.validityMs,
    `the owner demoted ${Math.round(demote.at - frozenAt)}ms after the freeze`,
  );
  await sleep(2000);
  assert.deepEqual(h.owners(), [], 'nobody can acquire while etcd is frozen');
  for (const m of h.etcd.members) h.etcd.thaw(m.name);
  await h.waitFor('one owner after the thaw', () => h.owners().length === 1, 30_000);
  await sleep(1000);
  assert.equal(h.owners().length, 1);
  assertSafe(h.records, t);
});

test('freezing one etcd member never gives two owners and leaves exactly one', { skip }, async (t) => {
  const h = await harness(t);
  await h.firstOwner();
  const leader = await h.etcd.leader();
  h.etcd.freeze(leader);
  await sleep(5000);
  await h.waitFor('one owner', () => h.owners().length === 1, 20_000);
  h.etcd.thaw(leader);
  await sleep(2000);
  assert.equal(h.owners().length, 1);
  assertSafe(h.records, t);
});
