import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Decision,
  INITIAL_LADDER,
  type LadderConfig,
  type LadderState,
  stepLadder,
} from '../../../src/engine/recovery.js';

function runLadder(
  cfg: LadderConfig,
  results: boolean[],
  stepMs = 1000,
): { decisions: Decision['kind'][]; state: LadderState } {
  let state = INITIAL_LADDER;
  const decisions: Decision['kind'][] = [];
  results.forEach((ok, i) => {
    const out = stepLadder(state, cfg, ok, i * stepMs);
    state = out.state;
    decisions.push(out.decision.kind);
  });
  return { decisions, state };
}

const groupCfg = (restart: number, then: LadderConfig['onFailure']['then'], retries = 1): LadderConfig => ({
  retries,
  intervalMs: 1000,
  onFailure: { restart, then },
  target: 'app',
  nodeLevel: false,
});

describe('stepLadder()', () => {
  test('retries: 1 acts on the second consecutive failure', () => {
    assert.deepEqual(runLadder(groupCfg(0, 'failover'), [false, false]).decisions, ['none', 'failover']);
  });

  test('retries: 0 acts on the first failure', () => {
    assert.deepEqual(runLadder(groupCfg(0, 'failover', 0), [false]).decisions, ['failover']);
  });

  test('a pass in between starts the failure count over', () => {
    assert.deepEqual(runLadder(groupCfg(0, 'failover'), [false, true, false, true]).decisions, [
      'none',
      'none',
      'none',
      'none',
    ]);
  });

  test('restarts the target up to the limit, then fails over', () => {
    const { decisions } = runLadder(groupCfg(2, 'failover'), [false, false, false, false, false, false]);
    assert.deepEqual(decisions, ['none', 'restart', 'none', 'restart', 'none', 'failover']);
  });

  test('the restart count survives a short pass and resets after ten intervals of passing', () => {
    const cfg = groupCfg(1, 'failover', 0);
    let { state } = runLadder(cfg, [false]);
    assert.equal(state.restarts, 1);
    state = stepLadder(state, cfg, true, 10_000).state;
    state = stepLadder(state, cfg, true, 15_000).state;
    assert.equal(state.restarts, 1, 'passed only 5 intervals');
    state = stepLadder(state, cfg, true, 20_000).state;
    assert.equal(state.restarts, 0);
    assert.equal(stepLadder(state, cfg, false, 21_000).decision.kind, 'restart');
  });

  test('restartWindow: only the restarts of the last window count, however long it passed in between', () => {
    const cfg: LadderConfig = {
      ...groupCfg(2, 'failover', 0),
      onFailure: { restart: 2, then: 'failover', restartWindowMs: 60_000 },
    };
    let state = INITIAL_LADDER;
    const step = (ok: boolean, at: number) => {
      const out = stepLadder(state, cfg, ok, at);
      state = out.state;
      return out.decision.kind;
    };
    assert.equal(step(false, 0), 'restart');
    // 20 intervals of passing would reset the count without a window; with one it does not.
    for (let t = 1000; t <= 20_000; t += 1000) step(true, t);
    assert.equal(state.restarts, 1);
    assert.equal(step(false, 21_000), 'restart');
    assert.equal(step(true, 22_000), 'none');
    assert.equal(step(false, 30_000), 'failover', 'a third failure within 60 s of the first');
  });

  test('restartWindow: a restart older than the window no longer counts (fake clock)', () => {
    const cfg: LadderConfig = {
      ...groupCfg(1, 'failover', 0),
      onFailure: { restart: 1, then: 'failover', restartWindowMs: 60_000 },
    };
    const first = stepLadder(INITIAL_LADDER, cfg, false, 0);
    assert.equal(first.decision.kind, 'restart');
    const ok = stepLadder(first.state, cfg, true, 1000).state;
    assert.equal(stepLadder(ok, cfg, false, 59_999).decision.kind, 'failover', 'still inside the window');
    const late = stepLadder(ok, cfg, false, 60_000);
    assert.equal(late.decision.kind, 'restart', 'the window has passed');
    assert.equal(late.decision.kind === 'restart' && late.decision.attempt, 1);
    assert.deepEqual(late.state.restartTimes, [60_000]);
    assert.equal(stepLadder(ok, cfg, true, 61_000).state.restarts, 0, 'a pass also forgets it');
  });

  test('a hard failure (OCF: not installed, not configured) skips the retries and the restarts', () => {
    const cfg = groupCfg(2, 'failover', 3);
    const { decision, state } = stepLadder(INITIAL_LADDER, cfg, false, 0, true);
    assert.equal(decision.kind, 'failover');
    assert.equal(state.restarts, 0);
    assert.equal(stepLadder(INITIAL_LADDER, cfg, false, 0, false).decision.kind, 'none');
  });

  test('a monitor without a target skips the restart rung', () => {
    const cfg = { ...groupCfg(3, 'failover', 0), target: undefined };
    assert.deepEqual(runLadder(cfg, [false]).decisions, ['failover']);
  });

  test('ineligible is decided once while failing and lifted on the next pass', () => {
    const cfg: LadderConfig = {
      retries: 1,
      intervalMs: 1000,
      onFailure: { restart: 0, then: 'ineligible' },
      nodeLevel: true,
    };
    assert.deepEqual(runLadder(cfg, [false, false, false, true, true]).decisions, [
      'none',
      'ineligible',
      'none',
      'eligible',
      'none',
    ]);
  });

  test('a node-level monitor set to failover makes the node ineligible instead', () => {
    const cfg: LadderConfig = {
      retries: 0,
      intervalMs: 1000,
      onFailure: { restart: 2, then: 'failover' },
      nodeLevel: true,
      target: 'x',
    };
    assert.deepEqual(runLadder(cfg, [false]).decisions, ['ineligible']);
  });

  test('alert is raised once per failing streak', () => {
    assert.deepEqual(runLadder(groupCfg(0, 'alert', 0), [false, false, true, false]).decisions, [
      'alert',
      'none',
      'none',
      'alert',
    ]);
  });

  test('none never acts but keeps counting', () => {
    const { decisions, state } = runLadder(groupCfg(0, 'none', 0), [false, false, false]);
    assert.deepEqual(decisions, ['none', 'none', 'none']);
    assert.equal(state.consecutiveFailures, 3);
  });
});
