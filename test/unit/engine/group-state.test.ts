import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GroupState } from '../../../src/engine/group-state.js';

function fixture(start = 1000) {
  const clock = { now: start };
  const state = new GroupState(() => clock.now);
  return { clock, state };
}

describe('GroupState', () => {
  test('a new group is stopped, not held, with no owner, requests or error, since creation', () => {
    const { state } = fixture(1234);
    assert.equal(state.phase, 'stopped');
    assert.equal(state.since, 1234);
    assert.equal(state.held, false);
    assert.equal(state.term, null);
    assert.equal(state.owner, null);
    assert.deepEqual(state.requests, []);
    assert.equal(state.restarting, false);
    assert.equal(state.lastError, null);
    assert.equal(state.rank, undefined);
    assert.equal(state.chain, null);
  });

  test('setPhase moves `since` only when the phase actually changes', () => {
    const { clock, state } = fixture(1000);
    clock.now = 2000;
    assert.equal(state.setPhase('starting'), true);
    assert.equal(state.since, 2000);
    clock.now = 3000;
    assert.equal(state.setPhase('starting'), false);
    assert.equal(state.since, 2000);
    assert.equal(state.setPhase('running'), true);
    assert.equal(state.phase, 'running');
    assert.equal(state.since, 3000);
  });

  test('setRank reports a change only when the rank differs, so a candidacy is sent once', () => {
    const { state } = fixture();
    assert.equal(state.setRank(0), true);
    assert.equal(state.setRank(0), false);
    assert.equal(state.setRank(null), true);
    assert.equal(state.rank, null);
    assert.equal(state.setRank(null), false);
  });

  test('a release drops the lease and the rank, so the next candidacy is sent again', () => {
    const { state } = fixture();
    state.acquired('t7');
    state.setRank(0);
    assert.equal(state.held, true);
    assert.equal(state.term, 't7');
    state.released();
    assert.equal(state.held, false);
    assert.equal(state.term, null);
    assert.equal(state.rank, undefined);
    assert.equal(state.setRank(0), true);
  });

  test('a demote drops the lease but keeps the term for the stop that follows', () => {
    const { state } = fixture();
    state.acquired('t3');
    state.demoted('quorum lost');
    assert.equal(state.held, false);
    assert.equal(state.term, 't3');
  });

  test('a demote aborts a start in progress with the demote reason', () => {
    const { state } = fixture();
    state.acquired('t1');
    const signal = state.beginStart();
    state.demoted('quorum lost');
    assert.equal(signal.aborted, true);
    assert.match(String((signal.reason as Error).message), /demoted: quorum lost/);
  });

  test('abortStart after the start ended does not touch the finished start', () => {
    const { state } = fixture();
    const signal = state.beginStart();
    state.endStart();
    state.abortStart(new Error('agent stopping'));
    assert.equal(signal.aborted, false);
  });

  test('ownerSeenBy names this node only while the lease is held here', () => {
    const { state } = fixture();
    state.ownerChanged('n1', 'n1');
    assert.equal(state.ownerSeenBy('n1'), null, 'coordinator still names us but we do not hold it');
    state.acquired('t1');
    assert.equal(state.ownerSeenBy('n1'), 'n1');
    state.released();
    state.ownerChanged('n2', 'n1');
    assert.equal(state.ownerSeenBy('n1'), 'n2');
  });

  test('after a failed stop the lease is over here once another owner (or none) is reported', () => {
    const { state } = fixture();
    state.acquired('t1');
    state.setPhase('failed-stop');
    assert.equal(state.ownerChanged('n1', 'n1'), false);
    assert.equal(state.held, true);
    assert.equal(state.ownerChanged(null, 'n1'), true);
    assert.equal(state.held, false);
    assert.equal(state.term, null);
    assert.equal(state.owner, null);
  });

  test('an owner change outside a failed stop only records the owner', () => {
    const { state } = fixture();
    state.acquired('t1');
    state.setPhase('running');
    assert.equal(state.ownerChanged('n2', 'n1'), false);
    assert.equal(state.held, true);
    assert.equal(state.term, 't1');
    assert.equal(state.owner, 'n2');
  });

  test('clearFailedStop stops the group only after a failed stop whose lease ran out', () => {
    const { clock, state } = fixture(0);
    assert.equal(state.clearFailedStop(), false, 'not after a failed stop');
    state.acquired('t1');
    state.setPhase('failed-stop');
    assert.equal(state.clearFailedStop(), false, 'lease still held here');
    assert.equal(state.phase, 'failed-stop');
    state.ownerChanged(null, 'n1');
    clock.now = 500;
    assert.equal(state.clearFailedStop(), true);
    assert.equal(state.phase, 'stopped');
    assert.equal(state.since, 500);
  });

  test('requests queue in order; keepOnlyRestarts and dropRestarts filter by kind', () => {
    const { state } = fixture();
    state.request({ kind: 'restart', resource: 'app', monitor: 'http' });
    state.request({ kind: 'failover', monitor: 'http', reason: 'down' });
    state.request({ kind: 'start-failed', reason: 'app: boom' });
    assert.deepEqual(
      state.requests.map((r) => r.kind),
      ['restart', 'failover', 'start-failed'],
    );
    state.keepOnlyRestarts();
    assert.deepEqual(state.requests, [{ kind: 'restart', resource: 'app', monitor: 'http' }]);
    state.request({ kind: 'failover', monitor: 'http', reason: 'down' });
    state.dropRestarts();
    assert.deepEqual(state.requests, [{ kind: 'failover', monitor: 'http', reason: 'down' }]);
  });

  test('ending a restart answers only that resource’s restart requests', () => {
    const { state } = fixture();
    state.request({ kind: 'restart', resource: 'app', monitor: 'http' });
    state.request({ kind: 'restart', resource: 'db', monitor: 'sql' });
    state.request({ kind: 'restart', resource: 'app', monitor: 'tcp' });
    state.beginRestart();
    assert.equal(state.restarting, true);
    state.endRestart('app');
    assert.equal(state.restarting, false);
    assert.deepEqual(state.requests, [{ kind: 'restart', resource: 'db', monitor: 'sql' }]);
  });

  test('a requests view once read does not change with later requests or filters', () => {
    const { state } = fixture();
    state.request({ kind: 'restart', resource: 'app', monitor: 'http' });
    const before = state.requests;
    state.request({ kind: 'failover', monitor: 'http', reason: 'down' });
    state.dropRestarts();
    assert.deepEqual(before, [{ kind: 'restart', resource: 'app', monitor: 'http' }]);
    assert.deepEqual(state.requests, [{ kind: 'failover', monitor: 'http', reason: 'down' }]);
  });

  test('the same chain again within retryMs repeats too soon; a different one or a later one does not', async () => {
    const { state } = fixture();
    assert.equal(state.repeatsTooSoon('[a]', 100, 1000), false, 'no chain ran yet');
    let finish!: () => void;
    state.beginChain('[a]', 100, () => new Promise<void>((resolve) => (finish = resolve)));
    assert.notEqual(state.chain, null);
    finish();
    await state.chain;
    state.endChain();
    assert.equal(state.chain, null);
    assert.equal(state.repeatsTooSoon('[a]', 1099, 1000), true);
    assert.equal(state.repeatsTooSoon('[b]', 1099, 1000), false);
    assert.equal(state.repeatsTooSoon('[a]', 1100, 1000), false);
  });

  test('a chain that failed leaves its error as the group’s last error; a success keeps it', () => {
    const { state } = fixture();
    state.beginChain('[a]', 0, async () => {});
    state.endChain('intent write failed: no quorum');
    assert.equal(state.lastError, 'intent write failed: no quorum');
    state.beginChain('[b]', 0, async () => {});
    state.endChain();
    assert.equal(state.lastError, 'intent write failed: no quorum');
    state.setError(null);
    assert.equal(state.lastError, null);
  });
});
