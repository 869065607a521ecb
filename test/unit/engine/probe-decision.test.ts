import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decideProbe,
  type ProbeFacts,
  type ProbeFinding,
  type ProbeTiming,
  probeDue,
} from '../../../src/engine/probe-decision.js';

/** Group `web` with resources vip → fs → app (start order) on node n2 unless a case says otherwise. */
function facts(
  over: Partial<ProbeFacts> & { found?: Record<string, ProbeFinding['state']> } = {},
): ProbeFacts {
  const { found = {}, ...rest } = over;
  const resources = ['vip', 'fs', 'app'];
  return {
    self: 'n2',
    resources,
    phase: 'stopped',
    held: false,
    owner: 'n1',
    findings: resources.map((resource) => ({ resource, state: found[resource] ?? 'stopped' })),
    ...rest,
  };
}

describe('decideProbe', () => {
  test('nothing found running here leaves the node alone', () => {
    assert.deepEqual(decideProbe(facts()), { kind: 'clean' });
    assert.deepEqual(decideProbe(facts({ owner: null })), { kind: 'clean' });
  });

  test('a copy found on a standby while another node owns the group is stopped as multiple active', () => {
    const verdict = decideProbe(facts({ found: { app: 'running' } }));
    assert.equal(verdict.kind, 'stop-strays');
    assert.ok(verdict.kind === 'stop-strays');
    assert.deepEqual(verdict.resources, ['app']);
    assert.equal(verdict.multipleActive, true);
    assert.match(verdict.reason, /active on n1 and found active on n2 \(multiple active\)/);
  });

  test('a copy found while nobody owns the group is stopped too: only a lease holder may run it', () => {
    const verdict = decideProbe(facts({ owner: null, found: { vip: 'running' } }));
    assert.ok(verdict.kind === 'stop-strays');
    assert.deepEqual(verdict.resources, ['vip']);
    assert.equal(verdict.multipleActive, false);
    assert.match(verdict.reason, /does not hold the group's lease/);
  });

  test('several copies are stopped in reverse start order, dependents first', () => {
    const verdict = decideProbe(facts({ found: { vip: 'running', app: 'running', fs: 'running' } }));
    assert.ok(verdict.kind === 'stop-strays');
    assert.deepEqual(verdict.resources, ['app', 'fs', 'vip']);
  });

  test('a failed check counts as found: it cannot vouch that nothing runs', () => {
    const verdict = decideProbe(facts({ found: { fs: 'failed' } }));
    assert.ok(verdict.kind === 'stop-strays');
    assert.deepEqual(verdict.resources, ['fs']);
  });

  test('where this node holds the lease, or the group is starting, running or stopping here, the copy is its own', () => {
    const found = { app: 'running' as const };
    for (const phase of ['starting', 'running', 'stopping', 'failed-stop'] as const)
      assert.deepEqual(decideProbe(facts({ phase, found })), { kind: 'owned-here', found: ['app'] }, phase);
  });

  test('a lease acquired while the checks ran (held, still stopped) keeps the copy for the start that follows', () => {
    assert.deepEqual(decideProbe(facts({ held: true, owner: 'n2', found: { app: 'running' } })), {
      kind: 'owned-here',
      found: ['app'],
    });
  });
});

describe('probeDue', () => {
  const base: ProbeTiming = {
    lastAt: null,
    now: 0,
    intervalMs: 10_000,
    phase: 'stopped',
    held: false,
    busy: false,
  };

  test('a group never probed is due at once (agent start)', () => {
    assert.equal(probeDue(base), true);
  });

  test('then again only once the interval has passed', () => {
    assert.equal(probeDue({ ...base, lastAt: 1000, now: 10_999 }), false);
    assert.equal(probeDue({ ...base, lastAt: 1000, now: 11_000 }), true);
  });

  test('the owner and a group with actions in flight are not probed', () => {
    assert.equal(probeDue({ ...base, held: true }), false);
    assert.equal(probeDue({ ...base, busy: true }), false);
    for (const phase of ['starting', 'running', 'stopping', 'failed-stop'] as const)
      assert.equal(probeDue({ ...base, phase }), false, phase);
  });
});
