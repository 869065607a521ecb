import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Mounts as the kernel lists them in /proc/PID/mountinfo (proc(5)): one line per mount,
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 * (mount id, parent id, major:minor of the file system's device, root within it, mount point,
 * mount options, optional fields up to `-`, type, source, super options). The device numbers,
 * not the source text, tell which block device is mounted: a source may be any alias of it.
 */
export interface MountEntry {
  /** `major:minor` of the mounted file system's device. */
  dev: string;
  mountPoint: string;
  fstype: string;
  source: string;
  options: string;
}

/** mountinfo escapes space, tab, newline and backslash as \040, \011, \012, \134. */
function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    const dev = fields[2];
    const mountPoint = fields[4];
    const options = fields[5];
    const fstype = fields[sep + 1];
    const source = fields[sep + 2];
    if (sep < 0 || !dev || !mountPoint || !options || !fstype || source === undefined) continue;
    out.push({ dev, mountPoint: unescapeOctal(mountPoint), fstype, source: unescapeOctal(source), options });
  }
  return out;
}

/** The mount on top at `dir` (the last one listed there), if any. */
export function mountAt(entries: readonly MountEntry[], dir: string): MountEntry | undefined {
  return entries.filter((e) => e.mountPoint === dir).at(-1);
}

export async function ownMounts(): Promise<MountEntry[]> {
  return parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** A mount of the device found in another mount namespace of this kernel. */
export interface ForeignMount {
  mountPoint: string;
  /** A process of that namespace (to name it in messages). */
  pid: number;
  /** The namespace, as readlink /proc/PID/ns/mnt shows it: `mnt:[4026531841]`. */
  namespace: string;
}

/**
 * Mounts of `dev` in the other mount namespaces this process can see (containers, `unshare
 * -m`, systemd's PrivateMounts, another agent on the same kernel), one process per namespace
 * read. A mount on another host is invisible here: that is what the group's lease is for.
 */
export async function foreignMounts(dev: string): Promise<ForeignMount[]> {
  const own = await readlink('/proc/self/ns/mnt');
  const seen = new Set([own]);
  const out: ForeignMount[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ns = await readlink(`/proc/${name}/ns/mnt`);
      if (seen.has(ns)) continue;
      seen.add(ns);
      const entries = parseMountinfo(await readFile(`/proc/${name}/mountinfo`, 'utf8'));
      for (const e of entries)
        if (e.dev === dev) out.push({ mountPoint: e.mountPoint, pid: Number(name), namespace: ns });
    } catch {
      // The process ended meanwhile, or is a kernel thread without a namespace we may read.
    }
  }
  return out;
}
