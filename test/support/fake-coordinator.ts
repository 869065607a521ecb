import type { FenceAction } from '../../src/coordination/deadman/fence-action.js';
import type {
  ClusterIntent,
  Coordinator,
  CoordinatorEvent,
  CoordinatorView,
  MemberView,
  NodeStatus,
} from '../../src/coordination/types.js';
import { HaloError } from '../../src/errors.js';

/** An in-memory coordinator: the test grants and takes leases by hand and reads what the engine asked for. */
export class FakeCoordinator implements Coordinator {
  readonly calls: string[] = [];
  readonly candidacy = new Map<string, number | null>();
  readonly fence = new Map<string, FenceAction[]>();
  readonly owners = new Map<string, string | null>();
  nodeStatus: NodeStatus = { eligible: true, reasons: [] };
  /** Make updateIntent fail: `true` as without quorum, or with the code given. */
  intentFails: boolean | 'HALO_E_STATE_WRITE_FAILED' = false;
  private data: ClusterIntent = {};
  private version = 0;
  private readonly members = new Map<string, MemberView>();
  private readonly listeners = new Set<(event: CoordinatorEvent) => void>();

  constructor(
    readonly node: string,
    peers: string[] = [],
  ) {
    for (const name of [node, ...peers]) this.setMember(name, { up: true, eligible: true }, false);
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  on(listener: (event: CoordinatorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setCandidacy(group: string, rank: number | null): void {
    this.candidacy.set(group, rank);
    this.calls.push(`candidacy ${group} ${rank}`);
  }

  async release(group: string): Promise<void> {
    this.calls.push(`release ${group}`);
    this.owners.set(group, null);
    this.emit({ type: 'owner', group, owner: null, term: null });
  }

  abandon(group: string): void {
    this.calls.push(`abandon ${group}`);
  }

  setFenceActions(group: string, actions: FenceAction[]): void {
    this.fence.set(group, actions);
  }

  setNodeStatus(status: NodeStatus): void {
    this.nodeStatus = status;
  }

  intent(): ClusterIntent {
    return this.data;
  }

  async updateIntent(entries: Record<string, unknown>): Promise<void> {
    if (this.intentFails === true) throw new HaloError('HALO_E_NO_QUORUM', 'no quorum (fake)');
    if (this.intentFails) throw new HaloError(this.intentFails, 'state dir full (fake)');
    this.data = { ...this.data };
    for (const [key, value] of Object.entries(entries)) this.data[key] = { value, version: ++this.version };
    this.calls.push(`intent ${JSON.stringify(entries)}`);
    this.emit({ type: 'intent', intent: this.data });
  }

  view(): CoordinatorView {
    return {
      node: this.node,
      quorum: true,
      quarantined: false,
      members: [...this.members.values()],
      leases: [...this.owners].map(([group, owner]) => ({ group, owner, term: null, validForMs: null })),
      droppedMessages: {},
    };
  }

  // ---- test drivers ----

  grant(group: string, term = 't1'): void {
    this.owners.set(group, this.node);
    this.emit({ type: 'acquired', group, term });
    this.emit({ type: 'owner', group, owner: this.node, term });
  }

  demote(group: string, reason = 'lease lost (fake)'): void {
    this.emit({ type: 'demote', group, term: 't1', reason });
    this.owners.set(group, null);
  }

  setOwner(group: string, owner: string | null): void {
    this.owners.set(group, owner);
    this.emit({ type: 'owner', group, owner, term: owner ? 't2' : null });
  }

  setMember(name: string, state: { up: boolean; eligible: boolean }, notify = true): void {
    this.members.set(name, {
      name,
      kind: 'node',
      up: state.up,
      eligible: state.eligible,
      reasons: [],
      lastSeenAgoMs: 0,
      rttMs: 1,
      configEpoch: 1,
    });
    if (notify) this.emit({ type: 'membership', view: this.view() });
  }

  emit(event: CoordinatorEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
