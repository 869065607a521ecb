import { z } from 'zod';
import { port } from '../../../config/fields.js';

/** `//server/share` or `\\server\share` (a UNC name, as mount.cifs and smbclient take it). */
const SHARE_RE = /^(?:\/\/|\\\\)[^/\\\s]+[/\\][^/\\]+[/\\]?$/;

/**
 * Characters smbclient's command line (`-c`) cannot carry inside a quoted file name: `;`
 * separates commands, `"` ends the quotes, control characters end the line.
 */
export const UNSAFE_PATH_RE = /[;"\u0000-\u001f\u007f]/;

export const smbMonitorParams = z.strictObject({
  share: z
    .string({ error: 'expected a share like //fileserver.example.com/share' })
    .regex(SHARE_RE, { error: 'expected a share like //fileserver.example.com/share' })
    .describe('The share to log on to, as //server/share (the same name mount.cifs takes).'),
  credentialsFile: z
    .string({ error: 'expected the path of a credentials file' })
    .min(1, { error: 'expected the path of a credentials file' })
    .describe(
      'File with `username=`, `password=` and optionally `domain=` lines, mode 0600 (the format of mount.cifs `credentials=` and `smbclient -A`, so one file serves the mount and the monitor). Read by smbclient itself: the password never appears in logs, in the environment or on a command line.',
    ),
  readFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      'File on the share (path inside it, e.g. `halo/probe.txt`) that must be readable; its content is read and thrown away. Without it (and without `write`) the probe lists the share’s top directory.',
    ),
  write: z
    .boolean()
    .default(false)
    .describe(
      'Also write a probe file `.halo-probe-NODE-MONITOR` (in writeDir), read it back, compare and delete it: the share accepts writes, not only reads.',
    ),
  writeDir: z
    .string()
    .min(1)
    .optional()
    .describe('Directory inside the share for the write probe (default: the top of the share).'),
  port: port('TCP port of the SMB server.').default(445),
  smbclient: z
    .string()
    .min(1)
    .default('smbclient')
    .describe("The smbclient program (Debian's `smbclient` package)."),
});
export type SmbMonitorParams = z.output<typeof smbMonitorParams>;
