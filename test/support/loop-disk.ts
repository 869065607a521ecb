import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from '../lab-kit/cleanup.js';

/**
 * A "shared disk" for the filesystem resource's tests: a sparse file in a temp directory
 * attached to a loop device (`losetup`, util-linux) and formatted (`mkfs.ext4` of e2fsprogs,
 * `mkfs.xfs` of xfsprogs). `remove()` unmounts whatever of it this mount namespace still has
 * mounted, detaches the loop device and deletes the file; it also runs from exit and signal
 * handlers, so a failing or interrupted test leaves no loop device or mount behind.
 */
export interface LoopDisk {
  /** /dev/loopN */
  device: string;
  label: string;
  /** A scratch directory for mount points (removed with the disk). */
  dir: string;
  remove(): void;
}

const sh = (argv: string[]) =>
  execFileSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Root and the tools, or what is missing. */
export function loopDiskUnavailable(fstype = 'ext4'): string | null {
  if (process.getuid?.() !== 0) return 'root (losetup, mount)';
  const tools = ['losetup', `mkfs.${fstype}`, 'blkid', 'fuser', 'unshare'];
  const missing = tools.filter((t) => {
    try {
      sh(['sh', '-c', `command -v ${t}`]);
      return false;
    } catch {
      return true;
    }
  });
  return missing.length ? `${missing.join(', ')} (util-linux, e2fsprogs, xfsprogs, psmisc)` : null;
}

export function createLoopDisk(
  label: string,
  fstype: 'ext4' | 'xfs' = 'ext4',
  sizeMb = fstype === 'xfs' ? 320 : 64,
): LoopDisk {
  const dir = mkdtempSync(join(tmpdir(), 'halo-disk-'));
  const image = join(dir, 'disk.img');
  let device = '';
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    unregister();
    if (device) {
      const dev = sh(['stat', '-c', '%t:%T', device]).trim();
      const devDec = dev
        .split(':')
        .map((h) => Number.parseInt(h, 16))
        .join(':');
      // Innermost first: mounts listed later may sit on top of earlier ones.
      const points = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((l) => l.split(' '))
        .filter((f) => f[2] === devDec)
        .map((f) => f[4] as string)
        .reverse();
      for (const p of points) {
        try {
          sh(['umount', p]);
        } catch {
          try {
            sh(['umount', '-l', p]);
          } catch {}
        }
      }
      try {
        sh(['losetup', '-d', device]);
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = registerCleanup(remove);
  try {
    sh(['truncate', '-s', `${sizeMb}M`, image]);
    device = sh(['losetup', '--find', '--show', image]).trim();
    if (fstype === 'ext4') sh(['mkfs.ext4', '-q', '-F', '-L', label, device]);
    else sh(['mkfs.xfs', '-q', '-f', '-L', label, device]);
  } catch (err) {
    remove();
    throw err;
  }
  return { device, label, dir, remove };
}
