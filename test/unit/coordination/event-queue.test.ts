import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoordinatorEvent, CoordinatorView } from '../../../src/coordination/types.js';
import { mergeQueuedEvents } from '../../../src/coordination/worker/event-queue.js';

const view = (quorum: boolean): CoordinatorView => ({
  node: 'n1',
  quorum,
  quarantined: false,
  members: [],
  leases: [],
  droppedMessages: {},
});

describe('mergeQueuedEvents', () => {
  it('keeps every acquired and demote, in order, and the latest owner of each group', () => {
    const events: CoordinatorEvent[] = [
      { type: 'owner', group: 'a', owner: 'n2', term: '1' },
      { type: 'acquired', group: 'a', term: '2' },
      { type: 'owner', group: 'a', owner: 'n1', term: '2' },
      { type: 'owner', group: 'b', owner: 'n2', term: '5' },
      { type: 'demote', group: 'a', term: '2', reason: 'lost' },
      { type: 'owner', group: 'a', owner: null, term: null },
      { type: 'acquired', group: 'a', term: '3' },
    ];
    assert.deepEqual(mergeQueuedEvents(events), [
      { type: 'acquired', group: 'a', term: '2' },
      { type: 'owner', group: 'b', owner: 'n2', term: '5' },
      { type: 'demote', group: 'a', term: '2', reason: 'lost' },
      { type: 'owner', group: 'a', owner: null, term: null },
      { type: 'acquired', group: 'a', term: '3' },
    ]);
  });

  it('keeps the latest membership and intent, and every deadman change', () => {
    const events: CoordinatorEvent[] = [
      { type: 'membership', view: view(false) },
      { type: 'deadman', state: 'down', reason: 'exited', restarts: 0, pid: null },
      { type: 'intent', intent: { x: { value: 1, version: 1 } } },
      { type: 'membership', view: view(true) },
      { type: 'deadman', state: 'ready', reason: 'restarted', restarts: 1, pid: 42 },
      { type: 'intent', intent: { x: { value: 2, version: 2 } } },
    ];
    assert.deepEqual(mergeQueuedEvents(events), [
      { type: 'deadman', state: 'down', reason: 'exited', restarts: 0, pid: null },
      { type: 'membership', view: view(true) },
      { type: 'deadman', state: 'ready', reason: 'restarted', restarts: 1, pid: 42 },
      { type: 'intent', intent: { x: { value: 2, version: 2 } } },
    ]);
  });
});
