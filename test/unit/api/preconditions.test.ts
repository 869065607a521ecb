import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTarget, type TargetCheck } from '../../../src/api/preconditions.js';
import { HaloError } from '../../../src/errors.js';

const base: TargetCheck = {
  verb: 'move',
  group: 'web',
  groupNodes: ['n1', 'n2'],
  target: 'n2',
  owner: 'n1',
  nodes: [
    { name: 'n1', up: true, eligible: true, reasons: [] },
    { name: 'n2', up: true, eligible: true, reasons: [] },
    { name: 'n3', up: true, eligible: true, reasons: [] },
  ],
};

const code = (c: Partial<TargetCheck>) => {
  try {
    checkTarget({ ...base, ...c });
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof HaloError);
    return `${err.code} ${err.httpStatus}`;
  }
};

test('a move to an up, eligible node of the group passes', () => {
  assert.equal(code({}), 'ok');
});

test('an unknown group is 404', () => {
  assert.equal(code({ groupNodes: undefined }), 'HALO_E_NOT_FOUND 404');
});

test('a node outside the group, a down node and an ineligible node are 409', () => {
  assert.equal(code({ target: 'n3' }), 'HALO_E_CONFLICT 409');
  assert.equal(code({ target: 'ghost' }), 'HALO_E_CONFLICT 409');
  const nodes = base.nodes.map((n) => (n.name === 'n2' ? { ...n, up: false } : n));
  assert.equal(code({ nodes }), 'HALO_E_CONFLICT 409');
  const ineligible = base.nodes.map((n) =>
    n.name === 'n2' ? { ...n, eligible: false, reasons: ['fsx down'] } : n,
  );
  assert.equal(code({ nodes: ineligible }), 'HALO_E_CONFLICT 409');
});

test('a move to the current owner is 409, a start there is fine', () => {
  assert.equal(code({ target: 'n1' }), 'HALO_E_CONFLICT 409');
  assert.equal(code({ target: 'n1', verb: 'start' }), 'ok');
});

test('a move or start to a node in standby is 409 and says how to undo the standby', () => {
  const nodes = base.nodes.map((n) => (n.name === 'n2' ? { ...n, standby: true } : n));
  assert.equal(code({ nodes }), 'HALO_E_CONFLICT 409');
  assert.equal(code({ nodes, verb: 'start' }), 'HALO_E_CONFLICT 409');
  assert.throws(() => checkTarget({ ...base, nodes }), /in standby; `halo node unstandby n2` first/);
});
