import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClockSanity, isHeartbeat, Membership } from '../../../src/coordination/membership.js';

function fakeClock(start = 1000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const members = [
  { name: 'n1', kind: 'node' as const },
  { name: 'n2', kind: 'node' as const },
  { name: 'w', kind: 'witness' as const },
];

describe('membership', () => {
  it('lists every member, with peers down until heard from', () => {
    const clock = fakeClock();
    const m = new Membership({ self: 'n1', members, heartbeatMs: 100, clock });
    m.setSelfStatus({ eligible: false, reasons: ['genw_fsx failing'] }, 4);
    assert.deepEqual(m.view(), [
      {
        name: 'n1',
        kind: 'node',
        up: true,
        eligible: false,
        reasons: ['genw_fsx failing'],
        lastSeenAgoMs: 0,
        rttMs: null,
        configEpoch: 4,
      },
      {
        name: 'n2',
        kind: 'node',
        up: false,
        eligible: false,
        reasons: [],
        lastSeenAgoMs: null,
        rttMs: null,
        configEpoch: null,
      },
      {
        name: 'w',
        kind: 'witness',
        up: false,
        eligible: true,
        reasons: [],
        lastSeenAgoMs: null,
        rttMs: null,
        configEpoch: null,
      },
    ]);
  });

  it('keeps a peer up for three heartbeat periods after it was last heard', () => {
    const clock = fakeClock();
    const m = new Membership({ self: 'n1', members, heartbeatMs: 100, clock });
    const n2 = new Membership({ self: 'n2', members, heartbeatMs: 100, clock });
    n2.setSelfStatus({ eligible: true, reasons: [] }, 1);
    assert.equal(m.onHeartbeat('n2', n2.heartbeatFor('n1')), true, 'coming up is a change');
    clock.t += 300;
    assert.equal(m.isUp('n2'), true);
    assert.deepEqual(m.upMembers(), ['n1', 'n2']);
    clock.t += 1;
    assert.equal(m.isUp('n2'), false);
    assert.equal(m.view()[1]!.lastSeenAgoMs, 301);
  });

  it('reports eligibility changes of a peer and ignores unknown senders', () => {
    const clock = fakeClock();
    const m = new Membership({ self: 'n1', members, heartbeatMs: 100, clock });
    const hb = { type: 'heartbeat' as const, eligible: true, reasons: [], configEpoch: 1, ping: 0 };
    m.onHeartbeat('n2', hb);
    assert.equal(m.onHeartbeat('n2', hb), false);
    assert.equal(m.onHeartbeat('n2', { ...hb, eligible: false, reasons: ['disk full'] }), true);
    assert.deepEqual(m.view()[1]!.reasons, ['disk full']);
    assert.equal(m.onHeartbeat('stranger', hb), false);
  });

  it('measures RTT from echoed pings without comparing clocks across nodes', () => {
    const c1 = fakeClock(1000);
    const c2 = fakeClock(5_000_000); // unrelated monotonic origin
    const a = new Membership({ self: 'n1', members, heartbeatMs: 100, clock: c1 });
    const b = new Membership({ self: 'n2', members, heartbeatMs: 100, clock: c2 });
    // a → b takes 4 ms; b holds it 30 ms; b → a takes 6 ms: RTT 10 ms.
    const ping = a.heartbeatFor('n2');
    c1.t += 4;
    c2.t += 4;
    b.onHeartbeat('n1', ping);
    c1.t += 30;
    c2.t += 30;
    const reply = b.heartbeatFor('n1');
    c1.t += 6;
    a.onHeartbeat('n2', reply);
    assert.equal(a.view()[1]!.rttMs, 10);
  });

  it('recognises heartbeats and rejects other payloads', () => {
    assert.equal(
      isHeartbeat({ type: 'heartbeat', eligible: true, reasons: [], configEpoch: 1, ping: 3 }),
      true,
    );
    assert.equal(
      isHeartbeat({ type: 'heartbeat', eligible: true, reasons: [1], configEpoch: 1, ping: 3 }),
      false,
    );
    assert.equal(isHeartbeat({ type: 'PREPARE' }), false);
    assert.equal(isHeartbeat(null), false);
  });
});

describe('clock sanity', () => {
  it('flags a suspend when boottime advances more than monotonic time', () => {
    const clock = fakeClock();
    let uptime = 50_000;
    const s = new ClockSanity({ clock, readUptimeMs: () => uptime });
    assert.deepEqual(s.tick(), []);
    clock.t += 100;
    uptime += 110;
    assert.deepEqual(s.tick(), [], 'uptime granularity is not a suspend');
    clock.t += 100;
    uptime += 100 + 30_000;
    assert.deepEqual(s.tick(), [{ kind: 'suspend', gapMs: 30_000 }]);
  });

  it('flags a pause when a tick comes far later than expected', () => {
    const clock = fakeClock();
    const s = new ClockSanity({ clock, readUptimeMs: () => null, tickMs: 75, pauseThresholdMs: 75 });
    s.tick();
    clock.t += 120;
    assert.deepEqual(s.tick(), []);
    clock.t += 2000;
    assert.deepEqual(s.tick(), [{ kind: 'pause', gapMs: 1925 }]);
  });

  it('tolerates network jitter but flags a peer whose clock runs 2% fast', () => {
    const clock = fakeClock(0);
    const s = new ClockSanity({ clock, readUptimeMs: () => null, driftWindowMs: 10_000 });
    let seed = 7;
    const jitter = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed / 2 ** 31) * 40; // 0–40 ms of queueing delay
    };
    for (let i = 0; i < 300; i++) {
      clock.t = i * 50 + jitter();
      assert.equal(s.observePeer('n2', 'boot', 777 + i * 50), null, `healthy sample ${i}`);
    }
    let anomaly = null;
    for (let i = 0; i < 400 && anomaly === null; i++) {
      clock.t = 20_000 + i * 50 + jitter();
      anomaly = s.observePeer('n3', 'boot', 9_999 + i * 50 * 1.02);
    }
    assert.ok(anomaly !== null && anomaly.kind === 'drift');
    assert.equal(anomaly.peer, 'n3');
    assert.ok(Math.abs(anomaly.rate - 1.02) < 0.01, `rate ${anomaly.rate}`);
  });

  it('starts over when a peer restarts (new bootId)', () => {
    const clock = fakeClock(0);
    const s = new ClockSanity({ clock, readUptimeMs: () => null, driftWindowMs: 1000 });
    for (let i = 0; i < 30; i++) {
      clock.t = i * 50;
      assert.equal(s.observePeer('n2', 'a', i * 50), null);
    }
    clock.t += 50;
    assert.equal(s.observePeer('n2', 'b', 1_000_000), null);
  });
});
