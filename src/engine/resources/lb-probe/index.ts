import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { FenceAction } from '../../../coordination/deadman/fence-action.js';
import { HaloError } from '../../../errors.js';
import { childLogger, type Logger } from '../../../log.js';
import type { CheckResult, ResourceContext, ResourceInstance, ResourcePlugin } from '../types.js';
import { HealthGate } from './health-gate.js';
import { type LbProbeParams, lbProbeParams } from './params.js';
import { ProbeListener, portAnswers } from './probe-listener.js';

/** How long check() waits for its own connection to the probe port. */
const CHECK_CONNECT_MS = 2000;

export interface LbProbeInstance extends ResourceInstance {
  /** The port this node listens on (probePortByNode wins over probePort). */
  port(node: string): number;
  /** Whether the probe port accepts connections right now. */
  listening(): boolean;
}

/**
 * `lb-probe` (like WSFC's ProbePort behind an Azure internal load balancer): the
 * probe port is how the cloud load balancer learns which node owns the group. It is open only
 * while the group is active here (the resource is started) and its health gate is green.
 * In `http` mode the port stays open while started and answers 503 when the gate is red, as
 * an HTTP probe expects; in `tcp` mode a red gate closes the port.
 */
class LbProbe implements LbProbeInstance {
  private params: LbProbeParams;
  private gate: HealthGate;
  private listener: ProbeListener | null = null;
  private started = false;
  private node = '';
  private log: Logger | null = null;
  /** Why the port could not be reopened when the gate turned green; check() reports it. */
  private openError: string | null = null;
  /** Gate flips arrive as plain calls from the engine; opening and closing are serialised here. */
  private applying: Promise<void> = Promise.resolve();

  constructor(
    private readonly name: string,
    params: LbProbeParams,
  ) {
    this.params = params;
    this.gate = new HealthGate(params.healthGate);
  }

  port(node: string): number {
    return this.params.probePortByNode?.[node] ?? this.params.probePort;
  }

  listening(): boolean {
    return this.listener?.listening === true;
  }

  async start(ctx: ResourceContext): Promise<void> {
    if (this.started) return;
    if (ctx.signal.aborted) {
      throw new HaloError('HALO_E_RESOURCE_CANCELLED', `start of lb-probe "${this.name}" was cancelled`, {
        resource: ctx.resource,
      });
    }
    const ip = this.params.ip;
    if (ip !== undefined && !localAddresses().has(ip)) {
      throw new HaloError(
        'HALO_E_LB_FRONTEND_IP_MISSING',
        `lb-probe "${this.name}": frontend IP ${ip} is not on any interface of this node; add an \`ip\` resource (device: lo) and list it in this resource's \`after\``,
        { resource: ctx.resource, ip },
      );
    }
    this.node = ctx.node;
    this.log = childLogger(ctx.log, { resource: ctx.resource });
    this.gate.reset();
    const listener = new ProbeListener({
      host: this.params.host,
      port: this.port(ctx.node),
      mode: this.params.mode,
      healthy: () => this.gate.state().ok,
    });
    // Bind even while the gate is still red: a port taken by another program must fail the
    // start now, not surface later as a probe that never opens.
    await listener.open();
    this.listener = listener;
    this.openError = null;
    this.started = true;
    await this.apply();
    this.log.info(
      { port: this.port(ctx.node), mode: this.params.mode, gate: this.gate.state().reason },
      'lb-probe started',
    );
  }

  async stop(ctx: ResourceContext): Promise<void> {
    const listener = this.listener;
    this.started = false;
    this.listener = null;
    await this.applying;
    await listener?.close();
    if (listener) ctx.log.info({ resource: ctx.resource, port: this.port(ctx.node) }, 'lb-probe stopped');
  }

  async check(ctx: ResourceContext): Promise<CheckResult> {
    if (!this.started) return { state: 'stopped', reason: 'not started' };
    const port = this.port(ctx.node);
    if (this.openError) return { state: 'failed', reason: this.openError };
    const gate = this.gate.state();
    // A red gate keeping a tcp port closed is the resource doing its job, not a fault: the
    // gating monitor already acts on the service's failure.
    if (!gate.ok && this.params.mode === 'tcp')
      return { state: 'running', reason: `probe port ${port} held closed: ${gate.reason}` };
    await this.applying;
    if (!this.listening() || !(await portAnswers(this.params.host, port, CHECK_CONNECT_MS, ctx.signal))) {
      return { state: 'failed', reason: `probe port ${this.params.host}:${port} does not answer` };
    }
    const answer = this.params.mode === 'http' ? (gate.ok ? ', answering 200' : ', answering 503') : '';
    return {
      state: 'running',
      reason: `probe port ${port} open (${this.params.mode}${answer}; ${gate.reason})`,
    };
  }

  /** The listener lives in the agent process and dies with it: nothing for the deadman to do. */
  fenceActions(): FenceAction[] {
    return [];
  }

  /** The engine's word on a group monitor: `ok` is its latest result, false while it does not run. */
  onMonitorResult(monitor: string, ok: boolean, reason: string): void {
    if (!this.gate.record(monitor, ok, reason) || !this.started) return;
    const state = this.gate.state();
    this.log?.info(
      { port: this.port(this.node), gate: state.reason },
      state.ok ? 'health gate green: probe port open' : 'health gate red: probe port closed',
    );
    void this.apply();
  }

  async applyLive(params: Record<string, unknown>): Promise<void> {
    const next = params as Partial<LbProbeParams>;
    if (next.healthGate !== undefined) {
      this.params = { ...this.params, healthGate: next.healthGate };
      this.gate = this.gate.withMonitors(next.healthGate);
    }
    await this.apply();
  }

  private apply(): Promise<void> {
    this.applying = this.applying.then(() => this.applyNow());
    return this.applying;
  }

  /** Makes the listener match the gate. Never rejects: failures are kept for check(). */
  private async applyNow(): Promise<void> {
    const listener = this.listener;
    if (!listener || !this.started) return;
    const open = this.params.mode === 'http' || this.gate.state().ok;
    if (open && !listener.listening) {
      try {
        await listener.open();
        this.openError = null;
      } catch (err) {
        this.openError = (err as Error).message;
        this.log?.error({ err: this.openError }, 'lb-probe could not reopen its port');
      }
    } else if (!open && listener.listening) {
      await listener.close();
    }
  }
}

function localAddresses(): Set<string> {
  const found = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) found.add(a.address);
  return found;
}

function validateLbProbe(params: LbProbeParams): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (params.ip !== undefined && isIP(params.ip) === 0)
    problems.push(['ip', 'expected an IPv4 or IPv6 address']);
  const seen = new Set<string>();
  params.healthGate.forEach((m, i) => {
    if (seen.has(m)) problems.push([`healthGate[${i}]`, `monitor ${m} is listed twice`]);
    seen.add(m);
  });
  return problems;
}

export const lbProbeResource: ResourcePlugin<LbProbeParams> = {
  type: 'lb-probe',
  description:
    'Listens on a load-balancer probe port only while the group is active and healthy here (WSFC ProbePort).',
  params: lbProbeParams,
  validate: validateLbProbe,
  uniqueAcrossGroups: ['probePort'],
  nodeKeyed: ['probePortByNode'],
  monitorLists: ['healthGate'],
  paramModes: { healthGate: 'live' },
  create: (name, params): LbProbeInstance => new LbProbe(name, params),
};
