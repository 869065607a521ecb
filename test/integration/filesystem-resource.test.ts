import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { filesystemResource } from '../../src/engine/resources/filesystem/index.js';
import { parseMountinfo } from '../../src/engine/resources/filesystem/mountinfo.js';
import { filesystemParams } from '../../src/engine/resources/filesystem/params.js';
import type { ResourceContext } from '../../src/engine/resources/types.js';
import { isHaloError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { createLoopDisk, type LoopDisk, loopDiskUnavailable } from '../support/loop-disk.js';
import { needPeer } from '../support/requirements.js';

/**
 * The `filesystem` resource against the real kernel: a loop device formatted ext4 (and xfs)
 * as the shared disk, mounted and unmounted by the resource, with real processes keeping it
 * busy and a second mount namespace (`unshare -m`) standing for the other node of a cluster
 * on the same kernel (the lab's case). Every loop device and mount is removed after each test,
 * also on failure (test/support/loop-disk.ts).
 */

let labels = 0;

function disk(t: TestContext, fstype: 'ext4' | 'xfs' = 'ext4'): LoopDisk | undefined {
  const why = loopDiskUnavailable(fstype);
  if (!needPeer(t, why ?? '', why === null)) return undefined;
  labels += 1;
  const d = createLoopDisk(`hf${process.pid % 100000}x${labels}`, fstype);
  t.after(() => d.remove());
  return d;
}

function ctx(signal: AbortSignal = new AbortController().signal): ResourceContext {
  return {
    cluster: 'c',
    node: 'n1',
    group: 'g',
    resource: 'data',
    term: '1',
    signal,
    log: silentLogger,
    stateDir: '/nonexistent',
  };
}

function resource(params: Record<string, unknown>) {
  return filesystemResource.create('data', filesystemParams.parse(params));
}

function mountedAt(dir: string): boolean {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).some((m) => m.mountPoint === dir);
}

/** A process keeping a file on the file system open (as a database would), ready once it says so. */
async function holdOpen(t: TestContext, file: string, trapTerm = false): Promise<ChildProcess> {
  const script = `${trapTerm ? "trap '' TERM; " : ''}exec 3>>"$1"; echo ready; while :; do sleep 1 3>&-; done`;
  const child = spawn('sh', ['-c', script, 'sh', file], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', () => reject(new Error('the holder exited early')));
  });
  return child;
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

describe('filesystem resource (root, loop device)', () => {
  it('start mounts by LABEL= after fsck, check reads the device, stop unmounts; start and stop are idempotent', async (t) => {
    const d = disk(t);
    if (!d) return;
    const dir = join(d.dir, 'mnt');
    const r = resource({ device: `LABEL=${d.label}`, directory: dir, fstype: 'ext4', fsck: 'force' });
    assert.equal((await r.check(ctx())).state, 'stopped');
    await r.start(ctx());
    await r.start(ctx());
    assert.ok(mountedAt(dir), 'mounted at the directory');
    const running = await r.check(ctx());
    assert.equal(running.state, 'running', running.reason);
    assert.match(running.reason ?? '', new RegExp(`${d.device} mounted at ${dir}; read probe passed`));
    writeFileSync(join(dir, 'data.txt'), 'kept\n');
    await r.stop(ctx());
    await r.stop(ctx());
    assert.ok(!mountedAt(dir), 'unmounted');
    assert.equal((await r.check(ctx())).state, 'stopped');
    // The data is on the device, not in the empty mount point.
    assert.ok(!existsSync(join(dir, 'data.txt')));
    execFileSync('fsck.ext4', ['-n', d.device], { stdio: 'ignore' });
  });

  it('a stop that loses the race with another unmount (the deadman helper at the lease deadline) succeeds', async (t) => {
    const d = disk(t);
    if (!d) return;
    const dir = join(d.dir, 'mnt');
    const r = resource({ device: d.device, directory: dir, fstype: 'ext4' });
    await r.start(ctx());
    // The helper unmounts right after the resource saw the mount and before its own umount ran.
    const inner = r as unknown as { run: (cmd: string[], c: ResourceContext) => Promise<unknown> };
    const run = inner.run.bind(r);
    inner.run = async (cmd, c) => {
      if (cmd[0] === 'umount') execFileSync('umount', [dir]);
      return run(cmd, c);
    };
    await r.stop(ctx());
    assert.ok(!mountedAt(dir));
  });

  it('the write probe writes and removes a file on the mounted file system (xfs)', async (t) => {
    const d = disk(t, 'xfs');
    if (!d) return;
    const dir = join(d.dir, 'mnt');
    const r = resource({ device: d.device, directory: dir, fstype: 'xfs', fsck: 'force', writeProbe: true });
    await r.start(ctx());
    const result = await r.check(ctx());
    assert.equal(result.state, 'running', result.reason);
    assert.match(result.reason ?? '', /write probe passed/);
    assert.ok(!existsSync(join(dir, '.halo-probe')), 'the probe file is removed');
    await r.stop(ctx());
    assert.ok(!mountedAt(dir));
  });

  it('stop ends a process holding a file open (SIGTERM), then unmounts', async (t) => {
    const d = disk(t);
    if (!d) return;
    const dir = join(d.dir, 'mnt');
    const r = resource({ device: d.device, directory: dir, fstype: 'ext4' });
    await r.start(ctx());
    const holder = await holdOpen(t, join(dir, 'db.log'));
    await r.stop(ctx(AbortSignal.timeout(30_000)));
    await exited(holder);
    assert.equal(holder.signalCode, 'SIGTERM');
    assert.ok(!mountedAt(dir));
  });

  it('a user that ignores SIGTERM is killed with SIGKILL within the stop time', async (t) => {
    const d = disk(t);
    if (!d) return;
    const dir = join(d.dir, 'mnt');
    const r = resource({ device: d.device, directory: dir, fstype: 'ext4' });
    await r.start(ctx());
    const holder = await holdOpen(t, join(dir, 'db.log'), true);
    await r.stop(ctx(AbortSignal.timeout(30_000)));
    await exited(holder);
    assert.equal(holder.signalCode, 'SIGKILL');
    assert.ok(!mountedAt(dir));
  });

  it('with killUsers off, a busy file system fails the stop, naming fuser, and stays mounted', async (t) => {
    const d = disk(t);
    if (!d) return;
    const dir = join(d.dir, 'mnt');
    const r = resource({ device: d.device, directory: dir, fstype: 'ext4', killUsers: false });
    await r.start(ctx());
    const holder = await holdOpen(t, join(dir, 'db.log'));
    await assert.rejects(
      r.stop(ctx()),
      (err) =>
        isHaloError(err) &&
        err.code === 'HALO_E_RESOURCE_STOP_FAILED' &&
        /is busy and killUsers is off \(see `fuser -vm /.test(err.message),
    );
    assert.ok(mountedAt(dir));
    holder.kill('SIGKILL');
    await exited(holder);
    await r.stop(ctx());
    assert.ok(!mountedAt(dir));
  });

  it('refuses to mount a device already mounted on another directory of this node', async (t) => {
    const d = disk(t);
    if (!d) return;
    const a = resource({ device: d.device, directory: join(d.dir, 'a'), fstype: 'ext4' });
    const b = resource({ device: `LABEL=${d.label}`, directory: join(d.dir, 'b'), fstype: 'ext4' });
    await a.start(ctx());
    await assert.rejects(
      b.start(ctx()),
      (err) =>
        isHaloError(err) &&
        err.code === 'HALO_E_RESOURCE_START_FAILED' &&
        err.message.includes(`${d.device} is already mounted at ${join(d.dir, 'a')} on this node`),
    );
    assert.ok(!mountedAt(join(d.dir, 'b')));
    await a.stop(ctx());
  });

  /** The "other node": its own mount namespace (unshare -m, private propagation) holding the disk for `seconds`. */
  async function holdInOtherNamespace(t: TestContext, d: LoopDisk, seconds: number): Promise<ChildProcess> {
    const other = join(d.dir, 'other');
    mkdirSync(other, { recursive: true });
    const holder = spawn(
      'unshare',
      [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount "$1" "$2" && echo ready && exec sleep ${seconds}`,
        'sh',
        d.device,
        other,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    t.after(async () => {
      holder.kill('SIGKILL');
      await exited(holder);
    });
    await new Promise<void>((resolve, reject) => {
      holder.stdout?.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`unshare exited ${code}`)));
    });
    assert.ok(!mountedAt(other), 'not visible in this namespace');
    return holder;
  }

  it('refuses to mount a device mounted in another mount namespace (the other node on this kernel)', async (t) => {
    const d = disk(t);
    if (!d) return;
    const holder = await holdInOtherNamespace(t, d, 600);
    const r = resource({
      device: d.device,
      directory: join(d.dir, 'mnt'),
      fstype: 'ext4',
      foreignMountWait: '300ms',
    });
    await assert.rejects(
      r.start(ctx()),
      (err) =>
        isHaloError(err) &&
        err.code === 'HALO_E_RESOURCE_START_FAILED' &&
        new RegExp(
          `already mounted at ${join(d.dir, 'other')} in another mount namespace \\(mnt:\\[\\d+\\], pid ${holder.pid}\\)`,
        ).test(err.message),
    );
    assert.ok(!mountedAt(join(d.dir, 'mnt')));
  });

  it('waits for a mount in another namespace that goes away (the old owner still unmounting) instead of failing', async (t) => {
    const d = disk(t);
    if (!d) return;
    await holdInOtherNamespace(t, d, 1);
    const r = resource({ device: d.device, directory: join(d.dir, 'mnt'), fstype: 'ext4' });
    // Refused at once before (see the test above); now it mounts once the other mount is gone.
    await r.start(ctx());
    assert.ok(mountedAt(join(d.dir, 'mnt')));
    await r.stop(ctx());
  });

  it('a device that stops answering fails the check in bounded time instead of hanging it', async (t) => {
    const d = disk(t);
    if (!d) return;
    if (
      !needPeer(t, 'dmsetup (Debian dmsetup)', existsSync('/usr/sbin/dmsetup') || existsSync('/sbin/dmsetup'))
    )
      return;
    // A kernel feature, not a package: containers without device-mapper cannot run this one
    // (the accepted exception of test/support/requirements.ts; docs/fault-scenarios.md lists it).
    if (!/device-mapper/.test(readFileSync('/proc/misc', 'utf8'))) {
      t.skip('no device-mapper in this kernel (/proc/misc): cannot make a device stop answering');
      return;
    }
    // A device-mapper device over the loop device; `dmsetup suspend` makes its I/O wait for ever.
    const name = `halo-fs-${process.pid}-${labels}`;
    const sectors = execFileSync('blockdev', ['--getsz', d.device], { encoding: 'utf8' }).trim();
    execFileSync('dmsetup', ['create', name, '--table', `0 ${sectors} linear ${d.device} 0`]);
    const dm = `/dev/mapper/${name}`;
    const dir = join(d.dir, 'mnt');
    t.after(() => {
      execFileSync('dmsetup', ['resume', name], { stdio: 'ignore' });
      try {
        execFileSync('umount', [dir], { stdio: 'ignore' });
      } catch {}
      execFileSync('dmsetup', ['remove', '--retry', name], { stdio: 'ignore' });
    });
    const r = resource({ device: dm, directory: dir, fstype: 'ext4', fsck: 'never' });
    await r.start(ctx());
    assert.equal((await r.check(ctx())).state, 'running');
    execFileSync('dmsetup', ['suspend', '--nolockfs', '--noflush', name]);
    const result = await r.check(ctx(AbortSignal.timeout(1500)));
    assert.equal(result.state, 'failed');
    assert.match(result.reason ?? '', /read probe of .* did not finish/);
    execFileSync('dmsetup', ['resume', name]);
    await sleep(100);
    await r.stop(ctx());
    assert.ok(!mountedAt(dir));
  });
});

describe('filesystem resource (pure parts)', () => {
  it('parses mountinfo lines, unescaping the mount point', () => {
    const text =
      '36 35 7:3 / /mnt/with\\040space rw,relatime shared:1 - ext4 /dev/loop3 rw\n' +
      '37 35 0:22 / /proc rw,nosuid - proc proc rw\n';
    assert.deepEqual(parseMountinfo(text), [
      {
        dev: '7:3',
        mountPoint: '/mnt/with space',
        fstype: 'ext4',
        source: '/dev/loop3',
        options: 'rw,relatime',
      },
      { dev: '0:22', mountPoint: '/proc', fstype: 'proc', source: 'proc', options: 'rw,nosuid' },
    ]);
  });

  it('validates the device spelling and refuses a relative or root mount point', () => {
    assert.equal(
      filesystemParams.safeParse({ device: 'sdb1', directory: '/srv', fstype: 'ext4' }).success,
      false,
    );
    const p = filesystemParams.parse({ device: 'UUID=1b2c-3d4e', directory: 'data', fstype: 'ext4' });
    assert.deepEqual(filesystemResource.validate?.(p), [['directory', 'expected an absolute path']]);
    const root = filesystemParams.parse({ device: '/dev/sdb1', directory: '/', fstype: 'xfs' });
    assert.deepEqual(filesystemResource.validate?.(root), [
      ['directory', 'expected a directory other than /'],
    ]);
    assert.equal(root.fsck, 'auto');
    assert.equal(root.killUsers, true);
  });
});
