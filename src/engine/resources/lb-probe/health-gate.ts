/**
 * The health gate of an `lb-probe` resource, pure: which of its gating monitors last passed.
 * The probe port may be open only while every gating monitor's latest word is a pass, so
 * the load balancer never sends clients to a node whose service is known to be broken
 * (WSFC keeps ProbePort closed while the IP resource is not online; Azure ILB then stops
 * routing to the node).
 *
 * A monitor that has not reported since the resource started counts as failing: right
 * after a start nothing is known yet, and opening the port early would route clients to
 * a service that may still be warming up.
 */

export interface GateState {
  ok: boolean;
  /** Why the gate is red (the first failing monitor), or a short note when green. */
  reason: string;
}

interface Verdict {
  ok: boolean;
  reason: string;
}

export class HealthGate {
  private readonly monitors: readonly string[];
  private readonly verdicts = new Map<string, Verdict>();

  constructor(monitors: readonly string[]) {
    this.monitors = [...new Set(monitors)];
  }

  gates(monitor: string): boolean {
    return this.monitors.includes(monitor);
  }

  /** Forgets every result (a fresh start knows nothing yet). */
  reset(): void {
    this.verdicts.clear();
  }

  /** Records a monitor's latest word; returns true when the gate's colour changed. */
  record(monitor: string, ok: boolean, reason: string): boolean {
    if (!this.gates(monitor)) return false;
    const before = this.state().ok;
    this.verdicts.set(monitor, { ok, reason });
    return this.state().ok !== before;
  }

  /** A copy with another list of monitors, keeping what is known about those still listed. */
  withMonitors(monitors: readonly string[]): HealthGate {
    const next = new HealthGate(monitors);
    for (const [name, verdict] of this.verdicts) if (next.gates(name)) next.verdicts.set(name, verdict);
    return next;
  }

  state(): GateState {
    if (this.monitors.length === 0) return { ok: true, reason: 'no health gate' };
    for (const name of this.monitors) {
      const verdict = this.verdicts.get(name);
      if (!verdict) return { ok: false, reason: `waiting for the first result of monitor ${name}` };
      if (!verdict.ok)
        return { ok: false, reason: `monitor ${name} failing${verdict.reason ? `: ${verdict.reason}` : ''}` };
    }
    return { ok: true, reason: `monitors ${this.monitors.join(', ')} passing` };
  }
}
