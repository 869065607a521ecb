import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownerToShow } from '../../../src/coordination/embedded/owner-view.js';

const base = { self: 'n1', now: 1000, held: undefined, accepted: null, shown: null, quarantined: false };

describe('the owner a node shows for a group', () => {
  it('a valid lease held here shows this node, whatever the acceptor says', () => {
    assert.deepEqual(
      ownerToShow({ ...base, held: { term: 7, validUntil: 1001 }, accepted: { owner: 'n2', term: 9 } }),
      { owner: 'n1', term: 7 },
    );
  });

  it('an expired lease held here gives way to what the acceptor accepted', () => {
    assert.deepEqual(
      ownerToShow({ ...base, held: { term: 7, validUntil: 1000 }, accepted: { owner: 'n2', term: 9 } }),
      { owner: 'n2', term: 9 },
    );
  });

  it('during the restart quarantine the last owner shown stays, unless it was this node', () => {
    assert.equal(ownerToShow({ ...base, shown: 'n2', quarantined: true }), undefined);
    assert.deepEqual(ownerToShow({ ...base, shown: 'n1', quarantined: true }), { owner: null, term: null });
  });

  it('outside the quarantine no accepted lease means nobody owns the group', () => {
    assert.deepEqual(ownerToShow({ ...base, shown: 'n2' }), { owner: null, term: null });
  });
});
