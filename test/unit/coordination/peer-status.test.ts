import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PeerStatus } from '../../../src/coordination/embedded/peer-status.js';
import type { VoterInfo } from '../../../src/coordination/embedded/voters.js';

const HEARTBEAT_MS = 300;

function peers() {
  const clock = { t: 1000, now: () => clock.t };
  const voter = (name: string, kind: VoterInfo['kind'], ballotIndex: number): VoterInfo => ({
    name,
    kind,
    weight: 1,
    links: [{ host: '127.0.0.1', port: 7400 + ballotIndex }],
    ballotIndex,
  });
  const status = new PeerStatus({
    self: 'n1',
    voters: [voter('n1', 'node', 0), voter('n2', 'node', 1), voter('w', 'witness', 2)],
    heartbeatMs: HEARTBEAT_MS,
    epoch: 1,
    clock,
    status: { eligible: true, reasons: [] },
  });
  const sent = (now: number) => status.tick(now, true).heartbeats.map((h) => h.to);
  return { clock, status, sent };
}

describe('PeerStatus heartbeats', () => {
  it('sends one heartbeat to every other voter each period', () => {
    const { sent } = peers();
    assert.deepEqual(sent(1000), ['n2', 'w']);
    assert.deepEqual(sent(1000 + HEARTBEAT_MS - 1), []);
    assert.deepEqual(sent(1000 + HEARTBEAT_MS), ['n2', 'w']);
  });

  it('sends heartbeats due within half a period with frames that leave anyway, and keeps that step', () => {
    const { status, sent } = peers();
    sent(1000);
    status.pullHeartbeatsForward(1000 + HEARTBEAT_MS / 2 - 1);
    assert.deepEqual(sent(1000 + HEARTBEAT_MS / 2 - 1), [], 'more than half a period early: not yet');
    status.pullHeartbeatsForward(1000 + HEARTBEAT_MS / 2);
    assert.deepEqual(sent(1000 + HEARTBEAT_MS / 2), ['n2', 'w']);
    assert.equal(
      status.nextHeartbeatAt(),
      1000 + HEARTBEAT_MS / 2 + HEARTBEAT_MS,
      'the next period counts from then',
    );
  });
});
