import { writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { FenceAction } from '../../../coordination/deadman/fence-action.js';
import { HaloError } from '../../../errors.js';
import { baseEnv } from '../../../util/command-env.js';
import { launch } from '../../exec/launcher.js';
import type { Launched } from '../../exec/launcher-protocol.js';
import type { CheckResult, ResourceContext, ResourceInstance, ResourcePlugin } from '../types.js';
import {
  hasNetAdmin,
  isNoDevice,
  isPermissionError,
  parseAddresses,
  runTool,
  sameAddress,
  type ToolResult,
} from './ip-command.js';
import { type IpParams, ipParams } from './params.js';

/** Bound on `arping -D` in check(): iputils takes whole seconds, and one is plenty on a LAN. */
const DUPLICATE_WAIT_S = 1;
/** Linux interface names are at most IFNAMSIZ − 1 = 15 bytes. */
const IFNAMSIZ = 16;

/**
 * `ip`: a floating address on a Linux interface. Start adds it (`ip addr add`)
 * and announces it — gratuitous ARP (`arping -U`, RFC 5227 §3 "ARP Announcement") for IPv4,
 * an unsolicited Neighbor Advertisement for IPv6 (RFC 4861 §7.2.6, sent by the kernel when
 * `ndisc_notify` is on). Check verifies the address is present and, for IPv4, that no other
 * host answers for it (`arping -D`). Stop removes it; an absent address is a stopped resource.
 * The deadman helper removes it with the same `ip addr del` when the agent cannot.
 */
class IpResource implements ResourceInstance {
  private readonly v6: boolean;
  private readonly prefix: number;
  /** The background announcer, ended by stop so it never advertises an address we dropped. */
  private announcer: { launched: Launched; exited: boolean } | null = null;

  constructor(
    private readonly name: string,
    private params: IpParams,
  ) {
    this.v6 = isIP(params.ip) === 6;
    this.prefix = params.prefix ?? (this.v6 ? 128 : 32);
  }

  private get cidr(): string {
    return `${this.params.ip}/${this.prefix}`;
  }

  private details(ctx: ResourceContext, extra: Record<string, unknown> = {}) {
    return { resource: ctx.resource, ip: this.cidr, device: this.params.device, ...extra };
  }

  private permissionError(ctx: ResourceContext, op: string, stderr?: string): HaloError {
    return new HaloError(
      'HALO_E_PERMISSION',
      `resource "${this.name}": cannot ${op} ${this.cidr} on ${this.params.device} without CAP_NET_ADMIN; run the agent as root or grant it the capability (systemd: AmbientCapabilities=CAP_NET_ADMIN)`,
      this.details(ctx, stderr ? { stderr: stderr.trim() } : {}),
    );
  }

  private failed(ctx: ResourceContext, op: string, r: ToolResult): HaloError {
    if (isPermissionError(r.stderr)) return this.permissionError(ctx, op, r.stderr);
    if (r.missing)
      return new HaloError(
        'HALO_E_COMMAND_NOT_FOUND',
        `resource "${this.name}": the \`ip\` command is missing; install iproute2`,
        this.details(ctx),
      );
    if (isNoDevice(r.stderr))
      return new HaloError(
        'HALO_E_INTERFACE_NOT_FOUND',
        `resource "${this.name}": interface ${this.params.device} does not exist on node ${ctx.node}; check \`device\` (ip link show)`,
        this.details(ctx, { stderr: r.stderr.trim() }),
      );
    return new HaloError(
      'HALO_E_IP_COMMAND_FAILED',
      `resource "${this.name}": ${op} ${this.cidr} on ${this.params.device} failed: ${r.stderr.trim() || `exit ${r.code}`}`,
      this.details(ctx, { code: r.code }),
    );
  }

  /**
   * true/false, or the failed command's result when the device cannot be read. The agent's
   * own interface list answers "present" without running a program, as it does on every
   * check of a running group; libuv leaves out interfaces that are down, so "absent" is
   * confirmed by `ip`.
   */
  private async present(signal: AbortSignal): Promise<boolean | ToolResult> {
    const listed = networkInterfaces()[this.params.device] ?? [];
    if (listed.some((a) => a.cidr !== null && sameAddress(a.cidr, this.cidr))) return true;
    const r = await runTool('ip', ['-j', 'addr', 'show', 'dev', this.params.device], { signal });
    if (r.code !== 0) return r;
    return parseAddresses(r.stdout).some((a) => sameAddress(a, this.cidr));
  }

  async start(ctx: ResourceContext): Promise<void> {
    if (!hasNetAdmin()) throw this.permissionError(ctx, 'add');
    if (this.v6) this.enableNdiscNotify(ctx);
    // One `ip` call: failover time is spent here. nodad: the lease already guarantees a single
    // owner, and DAD would hold an IPv6 address "tentative" (unusable) for a second.
    const extra = this.v6 ? ['nodad'] : [];
    const r = await runTool('ip', ['addr', 'add', this.cidr, 'dev', this.params.device, ...extra], {
      signal: ctx.signal,
    });
    // Already there (a repeated start); the kernel says "File exists" or "Address already assigned".
    const existed = r.code !== 0 && /File exists|already assigned/i.test(r.stderr);
    if (r.code !== 0 && !existed) throw this.failed(ctx, 'add', r);
    if (!this.v6) this.announce(ctx);
    ctx.log.info(
      { resource: ctx.resource, ip: this.cidr, device: this.params.device, added: !existed },
      'floating ip up',
    );
  }

  /** The kernel sends an unsolicited NA for a new address only when ndisc_notify is set. */
  private enableNdiscNotify(ctx: ResourceContext): void {
    try {
      writeFileSync(`/proc/sys/net/ipv6/conf/${this.params.device}/ndisc_notify`, '1');
    } catch (err) {
      ctx.log.warn(
        { resource: ctx.resource, err: (err as Error).message },
        'cannot enable ndisc_notify: no unsolicited NA',
      );
    }
  }

  /** Fire and forget: the first packet leaves at once; the rest repeat at 1 s like keepalived's garp. */
  private announce(ctx: ResourceContext): void {
    if (this.params.arpCount === 0) return;
    this.stopAnnouncer();
    const announcer = {
      launched: launch(
        'arping',
        ['-q', '-U', '-c', String(this.params.arpCount), '-I', this.params.device, this.params.ip],
        { env: baseEnv() },
        () => {},
      ),
      exited: false,
    };
    void announcer.launched.outcome.then(({ error }) => {
      announcer.exited = true;
      if (this.announcer === announcer) this.announcer = null;
      if (error)
        ctx.log.warn(
          { resource: ctx.resource, err: error.message },
          error.code === 'ENOENT'
            ? 'gratuitous ARP not sent (install iputils-arping)'
            : 'gratuitous ARP not sent',
        );
    });
    this.announcer = announcer;
  }

  private stopAnnouncer(): void {
    const announcer = this.announcer;
    this.announcer = null;
    if (!announcer) return;
    void announcer.launched.pid.then((pid) => {
      if (pid === undefined || announcer.exited) return;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // It ended meanwhile.
      }
    });
  }

  async stop(ctx: ResourceContext): Promise<void> {
    this.stopAnnouncer();
    if (!hasNetAdmin()) throw this.permissionError(ctx, 'remove');
    // One `ip` call, as in start. Idempotent (OCF): an absent address ("Cannot assign requested
    // address" or "Address not found", by kernel version) or a vanished interface means stopped.
    const r = await runTool('ip', ['addr', 'del', this.cidr, 'dev', this.params.device], {
      signal: ctx.signal,
    });
    if (r.code !== 0 && !isAbsent(r.stderr) && !isNoDevice(r.stderr)) throw this.failed(ctx, 'remove', r);
    ctx.log.info({ resource: ctx.resource, ip: this.cidr, device: this.params.device }, 'floating ip down');
  }

  async check(ctx: ResourceContext): Promise<CheckResult> {
    const present = await this.present(ctx.signal);
    if (typeof present !== 'boolean') {
      if (isNoDevice(present.stderr))
        return { state: 'stopped', reason: `interface ${this.params.device} does not exist` };
      return {
        state: 'failed',
        reason: `cannot read addresses of ${this.params.device}: ${present.stderr.trim()}`,
      };
    }
    if (!present) return { state: 'stopped', reason: `${this.cidr} is not on ${this.params.device}` };
    if (this.v6) return { state: 'running', reason: `${this.cidr} on ${this.params.device}` };
    // arping -D (RFC 5227 probe, sender 0.0.0.0): exit 0 = nobody answered, 1 = a reply came.
    const dad = await runTool(
      'arping',
      ['-D', '-c', '1', '-w', String(DUPLICATE_WAIT_S), '-I', this.params.device, this.params.ip],
      { signal: ctx.signal, timeoutMs: (DUPLICATE_WAIT_S + 2) * 1000 },
    );
    if (dad.code === 1) {
      const mac = /\[([0-9a-f:]{17})\]/i.exec(dad.stdout)?.[1];
      return {
        state: 'failed',
        reason: `another host${mac ? ` (${mac})` : ''} answers ARP for ${this.params.ip}: duplicate address`,
        output: dad.stdout,
      };
    }
    const note = dad.code === 0 ? 'no duplicate' : 'duplicate check skipped';
    return { state: 'running', reason: `${this.cidr} on ${this.params.device} (${note})` };
  }

  async applyLive(params: Record<string, unknown>): Promise<void> {
    if (typeof params['arpCount'] === 'number')
      this.params = { ...this.params, arpCount: params['arpCount'] };
  }

  /** The helper runs in the agent's network namespace, so no `netns` is needed. */
  fenceActions(): FenceAction[] {
    return [{ kind: 'ip-del', address: this.params.ip, prefix: this.prefix, dev: this.params.device }];
  }
}

function isAbsent(stderr: string): boolean {
  return /Cannot assign requested address|Address not found/i.test(stderr);
}

function validateIp(params: IpParams): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (isIP(params.ip) === 4 && params.prefix !== undefined && params.prefix > 32)
    problems.push(['prefix', 'expected at most 32 for an IPv4 address']);
  if (Buffer.byteLength(params.device) >= IFNAMSIZ)
    problems.push(['device', 'expected an interface name of at most 15 characters']);
  if (/[\s/:]/.test(params.device) || params.device === '.' || params.device === '..')
    problems.push(['device', 'expected an interface name without spaces, "/" or ":"']);
  return problems;
}

export const ipResource: ResourcePlugin<IpParams> = {
  type: 'ip',
  description: 'A floating IP on a Linux interface, announced with gratuitous ARP / unsolicited NA.',
  params: ipParams,
  validate: validateIp,
  uniqueAcrossGroups: ['ip'],
  paramModes: { arpCount: 'live' },
  create: (name, params) => new IpResource(name, params),
};
