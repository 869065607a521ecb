import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from './cleanup.js';
import { LabError, run } from './exec.js';
import { addLoss, blockPeers, healNamespace } from './firewall.js';
import { Freezer } from './freezer.js';
import { LabAgents } from './lab-agents.js';
import type { LabOptions } from './lab-config.js';
import { monoMs } from './lab-core.js';
import { killNamespaceProcesses, nextLabPrefix, nsPids, sweepStale } from './netns.js';
import { SplitBrainChecker } from './split-brain.js';
import { planTopology, SWITCH } from './topology.js';
import { type RelayRoute, UdpRelay } from './udp-relay.js';

export { HALO_CLI } from './lab-agents.js';
export type { AgentStatus, LabOptions } from './lab-config.js';
export { monoMs, NS_MAIN } from './lab-core.js';

/**
 * A throw-away cluster in network namespaces (lab-core.ts: the network and teardown;
 * lab-agents.ts: agents, witness and API) plus the faults a test injects into it. Every
 * fault returns the monotonic ms at which it was injected and keeps the split-brain checker
 * informed. Everything is removed by `cleanup()`, and by exit/signal handlers when a test
 * dies before it can call it.
 */
export class Lab extends LabAgents {
  private readonly relays = new Map<string, UdpRelay>();

  static async create(opts: LabOptions = {}): Promise<Lab> {
    if (process.getuid?.() !== 0) throw new LabError('the lab needs root (ip netns, nft)');
    await sweepStale();
    const prefix = nextLabPrefix();
    const dir = mkdtempSync(join(tmpdir(), `${prefix}`));
    const members = planTopology(prefix, opts.nodes ?? ['n1', 'n2'], opts.witness ?? true);
    const lab = new Lab(prefix, dir, members, opts);
    lab.unregister = registerCleanup(() => lab.cleanupSync());
    try {
      await lab.build();
      for (const name of opts.relays ?? []) await lab.startRelay(name);
    } catch (err) {
      await lab.cleanup();
      throw err;
    }
    return lab;
  }

  /** The split-brain checker for the lab's VIP (one per lab; faults keep it informed). */
  watchVip(intervalMs = 10): SplitBrainChecker {
    this.checker ??= new SplitBrainChecker(
      this.nodes.map((n) => ({ name: n, ns: this.ns(n) })),
      this.vip,
      { observerNs: this.ns(SWITCH), intervalMs, onSpawn: (pid) => this.observers.add(pid) },
    );
    return this.checker;
  }

  /** Cable pulled: the member's port on the bridge goes down. */
  async linkDown(name: string): Promise<number> {
    const t = monoMs();
    await run(['ip', '-n', this.ns(SWITCH), 'link', 'set', this.member(name).port, 'down']);
    return t;
  }

  async linkUp(name: string): Promise<number> {
    const t = monoMs();
    await run(['ip', '-n', this.ns(SWITCH), 'link', 'set', this.member(name).port, 'up']);
    return t;
  }

  /** Power loss: link down, then every process in the namespace SIGKILLed (agent, helper, service). */
  async crashNode(name: string): Promise<number> {
    const t = await this.linkDown(name);
    this.checker?.setPowered(name, false);
    await killNamespaceProcesses(this.ns(name), 3000, this.observers);
    this.procs.delete(name);
    this.responders.delete(name);
    return t;
  }

  /** Boots a crashed node: addresses as after a reboot (no VIP), link up, service back; not the agent. */
  async powerOn(name: string): Promise<void> {
    const m = this.member(name);
    await run(['ip', '-n', m.ns, 'addr', 'flush', 'dev', 'eth0']);
    await run(['ip', '-n', m.ns, 'addr', 'add', `${m.address}/24`, 'dev', 'eth0']);
    await this.linkUp(name);
    if (m.role === 'node') await this.startResponder(name);
    this.checker?.setPowered(name, true);
  }

  /**
   * Cuts traffic between every member of `a` and every member of `b` (both directions).
   * Each namespace gets all of its rules in one nftables transaction, side `a` first: an
   * isolated member is cut from everyone at once, never left reaching part of the cluster
   * while the other rules are still being added.
   */
  async partition(a: string[], b: string[]): Promise<number> {
    const t = monoMs();
    for (const x of a)
      await blockPeers(
        this.ns(x),
        b.map((y) => this.address(y)),
      );
    for (const y of b)
      await blockPeers(
        this.ns(y),
        a.map((x) => this.address(x)),
      );
    return t;
  }

  /** Drops only what `from` sends to `to`. */
  async dropOneWay(from: string, to: string): Promise<number> {
    const t = monoMs();
    await blockPeers(this.ns(from), [this.address(to)], 'out');
    await blockPeers(this.ns(to), [this.address(from)], 'in');
    return t;
  }

  /** Separates a member from every other node and the witness (the client still reaches it). */
  isolate(name: string): Promise<number> {
    const others = [...this.members.values()]
      .filter((m) => (m.role === 'node' || m.role === 'witness') && m.name !== name)
      .map((m) => m.name);
    return this.partition([name], others);
  }

  async heal(): Promise<number> {
    const t = monoMs();
    for (const m of this.members.values()) if (m.role !== 'switch') await healNamespace(m.ns);
    return t;
  }

  loss(name: string, percent: number): Promise<void> {
    return addLoss(this.ns(name), 'eth0', percent);
  }

  /**
   * Freezes a node's agent and deadman helper together (cgroup freezer; scenario 13). The
   * service (responder) keeps running, as an application outside Halo's control would.
   * Returns false when the machine has no freezer.
   */
  async freeze(name: string): Promise<boolean> {
    if (!Freezer.available()) return false;
    const responder = this.responders.get(name)?.pid;
    const pids = (await this.pidsIn(name)).filter((p) => p !== responder && !this.observers.has(p));
    const freezer = this.freezers.get(name) ?? new Freezer(`${this.prefix}${name}`);
    this.freezers.set(name, freezer);
    await freezer.freeze(pids);
    return true;
  }

  async thaw(name: string): Promise<number> {
    const t = monoMs();
    this.freezers.get(name)?.thaw();
    return t;
  }

  /**
   * Puts a userspace relay on every path from `name` to another voter (peer port 7401 on
   * nodes, 7402 on the witness). Must run before `name`'s Halo process starts (conntrack:
   * udp-relay.ts); `Lab.create` does it for `opts.relays`.
   */
  private async startRelay(name: string): Promise<void> {
    const portOf = (role: string): number => (role === 'witness' ? 7402 : 7401);
    const self = this.member(name);
    const routes: RelayRoute[] = [...this.members.values()]
      .filter((m) => (m.role === 'node' || m.role === 'witness') && m.name !== name)
      .map((m) => ({ host: m.address, port: portOf(m.role) }));
    const relay = new UdpRelay(self.ns, portOf(self.role), routes, (child) =>
      this.procs.set(`relay-${name}`, child),
    );
    this.relays.set(name, relay);
    await relay.start();
  }

  /** The relay on `name`'s outgoing voter paths (`opts.relays`). */
  relay(name: string): UdpRelay {
    const r = this.relays.get(name);
    if (!r) throw new LabError(`no relay on "${name}" (LabOptions.relays)`);
    return r;
  }

  /** Pids of every process in a member's namespace. */
  pidsIn(name: string): Promise<number[]> {
    return nsPids(this.ns(name));
  }
}
