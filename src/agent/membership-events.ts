import type { CoordinatorView } from '../coordination/types.js';
import type { EventInput } from '../engine/event-log.js';

/**
 * Turns membership views into `agent` events when a voter leaves or comes back and when this
 * node loses or regains quorum (the alerts' node kind reads them). A member's first sighting
 * after the agent starts and the first quorum are not news: only changes after that are.
 */
export class MembershipEvents {
  private readonly seenUp = new Set<string>();
  private readonly up = new Map<string, boolean>();
  private hadQuorum = false;
  private quorum = false;

  constructor(private readonly append: (event: EventInput) => void) {}

  update(view: CoordinatorView): void {
    for (const m of view.members) {
      if (m.name === view.node) continue;
      const was = this.up.get(m.name) ?? false;
      this.up.set(m.name, m.up);
      if (was === m.up) continue;
      if (m.up && !this.seenUp.has(m.name)) {
        this.seenUp.add(m.name);
        continue;
      }
      this.append({
        type: 'agent',
        level: m.up ? 'info' : 'warn',
        message: m.up ? `${m.kind} ${m.name} joined` : `${m.kind} ${m.name} left (not heard)`,
        details: { member: m.name, membership: { up: m.up, kind: m.kind } },
      });
    }
    if (view.quorum !== this.quorum) {
      this.quorum = view.quorum;
      if (view.quorum && !this.hadQuorum) {
        this.hadQuorum = true;
        return;
      }
      this.append({
        type: 'agent',
        level: view.quorum ? 'info' : 'error',
        message: view.quorum
          ? 'quorum regained'
          : 'quorum lost: this node no longer hears a majority of voters',
        details: { quorum: view.quorum },
      });
    }
  }
}
