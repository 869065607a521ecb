import type { EngineCore } from './engine-core.js';
import type { EngineGroups } from './engine-groups.js';
import type { EngineProbes } from './engine-probes.js';
import { holdGroup } from './exec/index.js';
import { inMaintenance, type ParsedIntent } from './intent.js';
import { errorText } from './timers.js';

/**
 * Entering and leaving maintenance (unmanaged) on this node. The scheduler freezes the group
 * (scheduler.ts), monitors and probes pause (engine-monitors.ts, engine-probes.ts); what is
 * left here is what outlives the agent: the deadman helper gets no fence actions for the
 * group, and the lifeline watchers of its programs find its hold file and spare them. Leaving
 * maintenance probes first: this node does not stand for the group before it has looked at
 * what runs here, so a copy left without a lease is stopped by the normal probe logic.
 */
export class EngineMaintenance {
  private readonly core: EngineCore;
  private readonly groups: EngineGroups;
  private readonly probes: EngineProbes;
  private readonly was = new Map<string, boolean>();

  constructor(core: EngineCore, groups: EngineGroups, probes: EngineProbes) {
    this.core = core;
    this.groups = groups;
    this.probes = probes;
  }

  /** Called before every scheduling round; acts only on changes (and once per group at start). */
  observe(intent: ParsedIntent): void {
    for (const g of this.core.groups.values()) {
      const name = g.config.name;
      const on = inMaintenance(intent, name);
      const before = this.was.get(name);
      if (before === on) continue;
      this.was.set(name, on);
      this.hold(name, on);
      // In maintenance the helper is armed with nothing to stop; out of it, with the group's
      // actions again where something of it runs (a stopped group has none to arm).
      if (on || g.state.phase !== 'stopped') this.groups.refreshFence(g);
      if (before === undefined) continue;
      this.core.event({
        type: 'group',
        group: name,
        message: on
          ? `${name} is in maintenance: its resources are left as they are (not started, stopped, monitored or recovered; the deadman leaves them alone)`
          : `${name} left maintenance: probing it before it is managed again`,
        details: { maintenance: on },
      });
      if (!on && g.state.held) this.probes.recordProbed(g);
      else if (!on) this.probes.afterMaintenance(g);
    }
  }

  private hold(group: string, on: boolean): void {
    try {
      holdGroup(group, on);
    } catch (err) {
      this.core.event({
        type: 'group',
        level: 'error',
        group,
        message: `hold file of ${group} not ${on ? 'written' : 'removed'} (${errorText(err)}): ${on ? 'an agent and helper killed together would still kill its programs' : 'its programs would outlive an agent and helper killed together'}`,
      });
    }
  }
}
