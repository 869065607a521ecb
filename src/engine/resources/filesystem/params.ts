import { z } from 'zod';
import { duration } from '../../../config/fields.js';

/** `/dev/…`, `UUID=…` or `LABEL=…`: the spellings of fstab(5)'s first field that name one block device. */
export const DEVICE_RE = /^(\/dev\/\S+|UUID=[A-Za-z0-9-]+|LABEL=\S+)$/;

export const filesystemParams = z.strictObject({
  device: z
    .string({ error: 'expected a block device: /dev/…, UUID=… or LABEL=…' })
    .regex(DEVICE_RE, { error: 'expected a block device: /dev/…, UUID=… or LABEL=…' })
    .describe(
      'The block device: a path (/dev/disk/by-id/… is stable across reboots), UUID=… or LABEL=… (looked up with blkid; a UUID or label found on two devices is refused).',
    ),
  directory: z
    .string({ error: 'expected the absolute path of the mount point' })
    .min(1, { error: 'expected the absolute path of the mount point' })
    .describe('Mount point (created when missing).'),
  fstype: z
    .string({ error: 'expected a file system type such as ext4 or xfs' })
    .regex(/^[a-z0-9_.]+$/, { error: 'expected a file system type such as ext4 or xfs' })
    .describe(
      'File system type (`mount -t`): ext4 and xfs are tested; others are passed to mount as they are.',
    ),
  options: z.string().min(1).optional().describe('Mount options (`mount -o`), e.g. `noatime`.'),
  fsck: z
    .enum(['never', 'auto', 'force'])
    .default('auto')
    .describe(
      'Check before mounting: auto = `fsck -a` (ext2/3/4 check only when not clean; xfs replays its log at mount, nothing to run), force = a full check (`fsck -f -a`; `xfs_repair` for xfs), never = mount as it is. Errors fsck cannot repair fail the start.',
    ),
  killUsers: z
    .boolean()
    .default(true)
    .describe(
      'On stop, when processes keep the file system busy: end them (SIGTERM, then SIGKILL; `fuser -k -m` of Debian psmisc) and unmount, all within timeout.stop. Off: the stop fails while it is busy.',
    ),
  writeProbe: z
    .boolean()
    .default(false)
    .describe(
      'Check also writes and deletes `.halo-probe` on the file system (synchronously, O_DIRECT); without it the check reads one block of the device with O_DIRECT.',
    ),
  foreignMountWait: duration(
    'When the device is mounted in another mount namespace this kernel shows (another node on the same kernel still unmounting after its lease ended), how long start waits for that mount to go away before it refuses.',
  ).prefault('10s'),
  timeout: z
    .strictObject({
      start: duration('Time limit of start, fsck included.').prefault('2m'),
      stop: duration('Time limit of stop, ending the users included.').prefault('1m'),
      check: duration(
        'Time limit of check; a device that does not answer within it fails the check.',
      ).prefault('20s'),
    })
    .prefault({})
    .describe('Time limits enforced by the engine.'),
});
export type FilesystemParams = z.output<typeof filesystemParams>;
