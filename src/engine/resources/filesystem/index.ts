import { mkdirSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FenceAction } from '../../../coordination/deadman/fence-action.js';
import { HaloError } from '../../../errors.js';
import { type Command, lastLine, type RunResult, runCommand } from '../../exec/index.js';
import type { CheckResult, ResourceContext, ResourceInstance, ResourcePlugin } from '../types.js';
import { type BlockDevice, resolveDevice } from './device.js';
import { foreignMounts, mountAt, ownMounts } from './mountinfo.js';
import { type FilesystemParams, filesystemParams } from './params.js';

/** Between an unmount refused as busy and the next try: time for the signalled users to exit. */
const BUSY_RETRY_MS = 500;
/** SIGTERM rounds before SIGKILL: a database gets a chance to close its files cleanly. */
const TERM_ROUNDS = 4;
const KILL_GRACE_MS = 1000;
const FOREIGN_MOUNT_POLL_MS = 100;
/** fsck(8) exit codes: 1 = errors corrected, 2 = corrected, reboot advised (root file system only). */
const FSCK_OK = [0, 1, 2];

const describe = (r: RunResult): string =>
  r.spawnError ??
  `${r.code !== null ? `exit code ${r.code}` : `killed by ${r.signal}`}${lastLine(r.output) ? `: ${lastLine(r.output)}` : ''}`;

/**
 * `filesystem`: a block device mounted on a directory (the shared disk of a WSFC or Pacemaker
 * cluster; facts from the OCF Filesystem agent carry over: check by the kernel's mount table,
 * fsck before mount, end the users of a busy mount before unmounting). Every command that
 * touches the device (blkid, fsck, mount, umount, the probes) runs in a child process under
 * the operation's signal, so a dead device can leave a child stuck in the kernel but never the
 * agent. A device already mounted, here or in another mount namespace this kernel shows, is
 * never mounted a second time.
 */
class FilesystemResource implements ResourceInstance {
  private readonly dir: string;

  constructor(
    private readonly name: string,
    private readonly params: FilesystemParams,
  ) {
    this.dir = resolve(params.directory);
  }

  /** The mount point as the kernel spells it (symlinks resolved). */
  private mountPoint(): string {
    try {
      return realpathSync(this.dir);
    } catch {
      return this.dir;
    }
  }

  private error(
    code: 'HALO_E_RESOURCE_START_FAILED' | 'HALO_E_RESOURCE_STOP_FAILED' | 'HALO_E_RESOURCE_CANCELLED',
    message: string,
    ctx: ResourceContext,
    extra: Record<string, unknown> = {},
  ): HaloError {
    return new HaloError(code, `resource "${this.name}": ${message}`, {
      resource: ctx.resource,
      device: this.params.device,
      directory: this.dir,
      ...extra,
    });
  }

  private run(cmd: Command, ctx: ResourceContext): Promise<RunResult> {
    return runCommand(cmd, { signal: ctx.signal, killGraceMs: KILL_GRACE_MS, maxOutputBytes: 16 * 1024 });
  }

  private async device(ctx: ResourceContext, op: 'start' | 'stop'): Promise<BlockDevice> {
    const found = await resolveDevice(this.params.device, ctx.signal);
    if (typeof found === 'string')
      throw this.error(
        op === 'start' ? 'HALO_E_RESOURCE_START_FAILED' : 'HALO_E_RESOURCE_STOP_FAILED',
        found,
        ctx,
      );
    return found;
  }

  async start(ctx: ResourceContext): Promise<void> {
    const device = await this.device(ctx, 'start');
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const dir = this.mountPoint();
    const mounts = await ownMounts();
    const here = mountAt(mounts, dir);
    if (here?.dev === device.dev) return;
    if (here) {
      throw this.error(
        'HALO_E_RESOURCE_START_FAILED',
        `${dir} already holds another file system (${here.source}, ${here.fstype}); unmount it first`,
        ctx,
      );
    }
    // A second mount of a non-cluster file system corrupts it: refuse any mount we can see.
    const elsewhere = mounts.find((m) => m.dev === device.dev);
    if (elsewhere)
      throw this.error(
        'HALO_E_RESOURCE_START_FAILED',
        `${device.path} is already mounted at ${elsewhere.mountPoint} on this node; refusing to mount it twice`,
        ctx,
      );
    const foreign = await this.foreignMountAfterWait(device.dev, ctx);
    if (foreign)
      throw this.error(
        'HALO_E_RESOURCE_START_FAILED',
        `${device.path} is already mounted at ${foreign.mountPoint} in another mount namespace (${foreign.namespace}, pid ${foreign.pid}); refusing to mount it twice`,
        ctx,
      );
    await this.fsck(device, ctx);
    const argv = ['mount', '-t', this.params.fstype];
    if (this.params.options !== undefined) argv.push('-o', this.params.options);
    argv.push(device.path, dir);
    const r = await this.run(argv, ctx);
    if (r.aborted)
      throw this.error('HALO_E_RESOURCE_CANCELLED', 'mount was cancelled', ctx, { output: r.output });
    if (r.code !== 0)
      throw this.error(
        'HALO_E_RESOURCE_START_FAILED',
        `mount ${device.path} ${dir} failed (${describe(r)})`,
        ctx,
        {
          output: r.output,
        },
      );
    ctx.log.info({ resource: ctx.resource, device: device.path, directory: dir }, 'file system mounted');
  }

  private fsckCommand(device: BlockDevice): string[] | undefined {
    const { fsck, fstype } = this.params;
    if (fsck === 'never') return undefined;
    if (fstype === 'xfs') return fsck === 'force' ? ['xfs_repair', device.path] : undefined;
    // -T: no title; -a: repair what is safe without asking (preen); -f: even when marked clean.
    return ['fsck', '-T', '-t', fstype, '-a', ...(fsck === 'force' ? ['-f'] : []), device.path];
  }

  private async fsck(device: BlockDevice, ctx: ResourceContext): Promise<void> {
    const argv = this.fsckCommand(device);
    if (!argv) return;
    const r = await this.run(argv, ctx);
    ctx.log.info(
      { resource: ctx.resource, command: argv.join(' '), code: r.code, output: r.output },
      'fsck finished',
    );
    if (r.aborted)
      throw this.error('HALO_E_RESOURCE_CANCELLED', 'fsck was cancelled', ctx, { output: r.output });
    const ok = argv[0] === 'xfs_repair' ? r.code === 0 : FSCK_OK.includes(r.code ?? -1);
    if (!ok)
      throw this.error(
        'HALO_E_RESOURCE_START_FAILED',
        `${argv.join(' ')} found errors it could not repair (${describe(r)}); repair the file system by hand before starting the group`,
        ctx,
        { output: r.output },
      );
  }

  /**
   * A mount in another namespace may be the old owner still unmounting: its deadman helper
   * fences at the lease deadline, and the new owner's lease can begin while that unmount
   * (after ending the users) is still running. Wait `foreignMountWait` for it to go away.
   */
  private async foreignMountAfterWait(dev: string, ctx: ResourceContext) {
    const until = Date.now() + this.params.foreignMountWait;
    for (;;) {
      const foreign = (await foreignMounts(dev))[0];
      if (!foreign || Date.now() >= until || ctx.signal.aborted) return foreign;
      await sleep(FOREIGN_MOUNT_POLL_MS, undefined, { signal: ctx.signal }).catch(() => {});
    }
  }

  async stop(ctx: ResourceContext): Promise<void> {
    const dir = this.mountPoint();
    let round = 0;
    for (;;) {
      const here = mountAt(await ownMounts(), dir);
      if (!here) return;
      const r = await this.run(['umount', dir], ctx);
      if (r.code === 0) {
        ctx.log.info({ resource: ctx.resource, directory: dir, rounds: round }, 'file system unmounted');
        continue; // Stacked mounts: unmount until nothing is left at dir.
      }
      if (r.aborted || ctx.signal.aborted)
        throw this.error(
          'HALO_E_RESOURCE_STOP_FAILED',
          `${dir} is still mounted when the stop time ran out${round > 0 ? ` (its users were signalled ${round} times)` : ''}`,
          ctx,
          { output: r.output },
        );
      // Unmounted meanwhile by someone else (the deadman helper at the lease deadline): stopped.
      if (!mountAt(await ownMounts(), dir)) return;
      if (!/busy/i.test(r.output))
        throw this.error('HALO_E_RESOURCE_STOP_FAILED', `umount ${dir} failed (${describe(r)})`, ctx, {
          output: r.output,
        });
      if (!this.params.killUsers)
        throw this.error(
          'HALO_E_RESOURCE_STOP_FAILED',
          `${dir} is busy and killUsers is off (see \`fuser -vm ${dir}\`)`,
          ctx,
          { output: r.output },
        );
      const signal = round < TERM_ROUNDS ? 'TERM' : 'KILL';
      await this.killUsers(dir, signal, ctx);
      round += 1;
      await sleep(BUSY_RETRY_MS, undefined, { signal: ctx.signal }).catch(() => {});
    }
  }

  /**
   * Signals every process using the file system mounted at `dir` (open files, cwd, root,
   * mapped files): psmisc's `fuser -k -m`, with -M so that it acts only when `dir` really is a
   * mount point, never on the users of the file system that holds it.
   */
  private async killUsers(dir: string, signal: 'TERM' | 'KILL', ctx: ResourceContext): Promise<void> {
    const r = await this.run(['fuser', '-M', '-k', `-${signal}`, '-m', dir], ctx);
    if (r.spawnError)
      throw this.error(
        'HALO_E_RESOURCE_STOP_FAILED',
        `${dir} is busy and its users cannot be ended: ${r.spawnError} (install Debian's psmisc)`,
        ctx,
      );
    // fuser prints the PIDs it signalled on stdout; exit 1 = none found (they may have just exited).
    ctx.log.warn(
      { resource: ctx.resource, directory: dir, signal, pids: r.output.trim() },
      'file system busy: signalled its users',
    );
  }

  async check(ctx: ResourceContext): Promise<CheckResult> {
    const dir = this.mountPoint();
    const here = mountAt(await ownMounts(), dir);
    if (!here) return { state: 'stopped', reason: `nothing is mounted at ${dir}` };
    const device = await resolveDevice(this.params.device, ctx.signal);
    if (typeof device === 'string') return { state: 'failed', reason: device };
    if (here.dev !== device.dev)
      return {
        state: 'failed',
        reason: `${dir} holds ${here.source} (${here.dev}), not ${device.path} (${device.dev})`,
      };
    if (/(^|,)ro(,|$)/.test(here.options))
      return {
        state: 'failed',
        reason: `${dir} is mounted read-only (the kernel may have remounted it after an I/O error)`,
      };
    // One block straight from the device (O_DIRECT, past the page cache): a device that stopped
    // answering fails here, in a child the engine's check timeout kills, not in the agent.
    const probe: string[] = this.params.writeProbe
      ? [
          'sh',
          '-c',
          'dd if=/dev/zero of="$1" bs=4096 count=1 oflag=direct conv=fsync status=none && rm -f "$1"',
          'sh',
          `${dir}/.halo-probe`,
        ]
      : ['dd', `if=${device.path}`, 'of=/dev/null', 'bs=4096', 'count=1', 'iflag=direct', 'status=none'];
    const r = await this.probe(probe, ctx);
    if (r === 'stuck')
      return {
        state: 'failed',
        reason: `the ${this.probeKind()} probe of ${dir} did not finish and cannot be killed (stuck in the kernel: the device does not answer)`,
      };
    if (r.aborted || r.timedOut)
      return {
        state: 'failed',
        reason: `the ${this.probeKind()} probe of ${dir} did not finish`,
        output: r.output,
      };
    if (r.code !== 0)
      return {
        state: 'failed',
        reason: `the ${this.probeKind()} probe of ${dir} failed (${describe(r)})`,
        output: r.output,
      };
    return { state: 'running', reason: `${device.path} mounted at ${dir}; ${this.probeKind()} probe passed` };
  }

  /**
   * Runs a probe, but returns once the signal is aborted and the kill grace has passed even if
   * the probe's process has not exited: a process waiting on a dead device (state D) ignores
   * SIGKILL until the I/O returns, and the check must still answer.
   */
  private async probe(argv: string[], ctx: ResourceContext): Promise<RunResult | 'stuck'> {
    const running = this.run(argv, ctx);
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<'stuck'>((resolve) => {
      const arm = () => {
        timer = setTimeout(() => resolve('stuck'), KILL_GRACE_MS * 2);
      };
      if (ctx.signal.aborted) arm();
      else ctx.signal.addEventListener('abort', arm, { once: true });
    });
    try {
      return await Promise.race([running, stuck]);
    } finally {
      clearTimeout(timer);
    }
  }

  private probeKind(): string {
    return this.params.writeProbe ? 'write' : 'read';
  }

  fenceActions(): FenceAction[] {
    // Without the agent: end the users, then unmount (umount fails harmlessly when not mounted).
    const timeoutMs = this.params.timeout.stop;
    const dir = this.mountPoint();
    return [
      { kind: 'run', argv: ['fuser', '-M', '-k', '-KILL', '-m', dir], timeoutMs },
      { kind: 'run', argv: ['umount', dir], timeoutMs },
    ];
  }
}

function validateFilesystem(params: FilesystemParams): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (!params.directory.startsWith('/')) problems.push(['directory', 'expected an absolute path']);
  else if (resolve(params.directory) === '/')
    problems.push(['directory', 'expected a directory other than /']);
  return problems;
}

export const filesystemResource: ResourcePlugin<FilesystemParams> = {
  type: 'filesystem',
  description:
    'Mounts a block device (path, UUID= or LABEL=) on a directory after an optional fsck; stop unmounts, ending the users of a busy mount; check = mounted here and a bounded read (or write) probe. Never mounts a device that is mounted elsewhere on this node.',
  params: filesystemParams,
  validate: validateFilesystem,
  uniqueAcrossGroups: ['directory', 'device'],
  paramModes: {},
  create: (name, params) => new FilesystemResource(name, params),
};
