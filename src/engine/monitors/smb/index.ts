import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../exec/index.js';
import type { MonitorContext, MonitorInstance, MonitorPlugin, MonitorResult } from '../types.js';
import { credentialsProblem } from './credentials.js';
import { type SmbMonitorParams, smbMonitorParams, UNSAFE_PATH_RE } from './params.js';

/**
 * The `smb` monitor: one SMB session per probe with Debian's smbclient (Samba's own client,
 * the maintained implementation of SMB2/3 signing, encryption and Kerberos; no npm SMB client
 * comes close), so a share is checked the way a client uses it (logon, tree connect, read,
 * optionally write) rather than by a TCP connect to port 445. The credentials go to smbclient
 * as `-A FILE`: the password is read by smbclient from the 0600 file and is never on a command
 * line, in the environment or in a log. The engine's timeout aborts the probe, which kills
 * smbclient: a server that hangs cannot hang the agent.
 */

/** Status shows the tail of the output; a probe says little. */
const MAX_OUTPUT_BYTES = 8 * 1024;
const KILL_GRACE_MS = 500;
/** smbclient reports failed operations as NT status codes, and exits 0 unless the last command failed. */
const NT_STATUS_RE = /NT_STATUS_[A-Z0-9_]+/;

/** A path inside the share as smbclient's `-c` wants it: backslashes, quoted. */
function smbPath(path: string): string {
  return `"${path.replace(/\//g, '\\').replace(/^\\+/, '')}"`;
}

function probeName(ctx: MonitorContext): string {
  return `.halo-probe-${ctx.node}-${ctx.monitor}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}

class SmbMonitor implements MonitorInstance {
  constructor(private readonly params: SmbMonitorParams) {}

  async probe(ctx: MonitorContext): Promise<MonitorResult> {
    const { share, credentialsFile, readFile, write, writeDir, port } = this.params;
    // Checked each probe, like every secret file read at run time: a fixed file is picked up.
    const problem = credentialsProblem(credentialsFile);
    if (problem) return { ok: false, output: problem };
    let scratch: string | undefined;
    try {
      const commands: string[] = [];
      const done: string[] = [];
      if (readFile !== undefined) {
        commands.push(`get ${smbPath(readFile)} /dev/null`);
        done.push(`read ${readFile}`);
      }
      let token: string | undefined;
      if (write) {
        scratch = mkdtempSync(join(tmpdir(), 'halo-smb-'));
        token = `halo probe ${ctx.node} ${randomBytes(8).toString('hex')}`;
        const local = join(scratch, 'probe');
        writeFileSync(local, `${token}\n`, { mode: 0o600 });
        const name = probeName(ctx);
        const remote = smbPath(writeDir === undefined ? name : `${writeDir}/${name}`);
        // Written, read back to stdout (compared below), deleted: `del` is last, so the exit
        // code says whether the file was removed.
        commands.push(`put "${local}" ${remote}`, `get ${remote} -`, `del ${remote}`);
        done.push(`wrote, read back and deleted ${name}`);
      }
      if (commands.length === 0) {
        commands.push('ls');
        done.push('listed the top directory');
      }
      const result = await runCommand(
        [this.params.smbclient, share, '-A', credentialsFile, '-p', String(port), '-c', commands.join('; ')],
        { signal: ctx.signal, killGraceMs: KILL_GRACE_MS, maxOutputBytes: MAX_OUTPUT_BYTES },
      );
      const text = result.output.trim();
      if (result.aborted || result.timedOut)
        return {
          ok: false,
          output: `no answer from ${share} after ${result.durationMs} ms; smbclient was killed${text ? `: ${lastLines(text)}` : ''}`,
        };
      if (result.spawnError) return { ok: false, output: `could not run smbclient: ${result.spawnError}` };
      const status = text.split('\n').find((line) => NT_STATUS_RE.test(line));
      if (result.code !== 0 || status !== undefined) {
        const why = status ?? (text ? lastLines(text) : `smbclient exited with code ${result.code}`);
        return { ok: false, output: `${share}: ${why.trim()}` };
      }
      if (token !== undefined && !text.includes(token))
        return { ok: false, output: `${share}: the probe file read back differs from what was written` };
      return { ok: true, output: `${share}: ${done.join('; ')} in ${result.durationMs} ms` };
    } catch (err) {
      return { ok: false, output: (err as Error).message };
    } finally {
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    }
  }
}

function lastLines(text: string): string {
  return text.split('\n').slice(-3).join(' | ');
}

function validateSmb(params: SmbMonitorParams): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (!params.credentialsFile.startsWith('/'))
    problems.push(['credentialsFile', 'expected an absolute path (e.g. /etc/halo/fsx.cred)']);
  for (const key of ['readFile', 'writeDir'] as const) {
    const value = params[key];
    if (value !== undefined && UNSAFE_PATH_RE.test(value))
      problems.push([key, 'expected a path without `;`, `"` or control characters']);
  }
  if (params.writeDir !== undefined && !params.write)
    problems.push(['writeDir', 'only used with `write: true`; set it or remove writeDir']);
  return problems;
}

export const smbMonitor: MonitorPlugin<SmbMonitorParams> = {
  type: 'smb',
  description:
    'Healthy when smbclient logs on to an SMB share and reads a file (optionally writes, reads back and deletes a probe file) within the timeout.',
  params: smbMonitorParams,
  validate: validateSmb,
  target: 'optional',
  create: (_name, params) => new SmbMonitor(params),
};
