import type { CoordinatorEvent } from '../types.js';

/**
 * The events that waited while the main thread was busy, with those that only report a state
 * kept at their latest: a group's `owner`, the `membership`, the `intent`. `acquired` and
 * `demote` are orders, not states, and `deadman` changes are few and each one goes in the event
 * log: every one of those is kept, in order. Each kept event
 * stays at the position of its latest occurrence, so orders and states keep their relative
 * order. O(n); pure.
 */
export function mergeQueuedEvents(events: readonly CoordinatorEvent[]): CoordinatorEvent[] {
  const seen = new Set<string>();
  const kept: CoordinatorEvent[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    const key = stateKey(e);
    if (key !== null) {
      if (seen.has(key)) continue;
      seen.add(key);
    }
    kept.push(e);
  }
  return kept.reverse();
}

function stateKey(e: CoordinatorEvent): string | null {
  switch (e.type) {
    case 'owner':
      return `owner ${e.group}`;
    case 'membership':
    case 'intent':
      return e.type;
    default:
      return null;
  }
}
