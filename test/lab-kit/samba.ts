import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError, run } from './exec.js';
import type { Lab } from './lab.js';
import { cableToSwitch, createNamespace, killNamespaceProcesses, removeNamespace } from './netns.js';
import { SUBNET_PREFIX, SWITCH } from './topology.js';

export const SMBD_BIN = process.env['HALO_SMBD_BIN'] ?? '/usr/sbin/smbd';
export const SMBPASSWD_BIN = process.env['HALO_SMBPASSWD_BIN'] ?? '/usr/bin/smbpasswd';
const SAMBA_HOST = 222;
/** The Unix account behind the SMB user (Samba maps every SMB user to one); present on Debian. */
const SMB_USER = 'nobody';

/**
 * A Samba file server (Debian's `samba`) in its own lab namespace cabled to the lab's bridge,
 * the stand-in of an FSx for Windows share: agents reach it at a lab address. Everything it
 * owns (config, passdb, locks, logs, the shared directory) lives under `<lab dir>/samba`, not
 * /etc/samba or /var/lib/samba; smbd runs in the foreground and `stop()` kills it. The
 * namespace carries the lab's prefix, so `Lab.cleanup()` removes it and its processes even
 * when `remove()` never ran.
 */
export class LabSamba {
  readonly ns: string;
  readonly address = `${SUBNET_PREFIX}.${SAMBA_HOST}`;
  readonly share: string;
  /** The directory the share exports. */
  readonly shareDir: string;
  /** A 0600 credentials file (username=/password= lines, mount.cifs and smbclient -A format). */
  readonly credentialsFile: string;
  private readonly dir: string;
  private readonly conf: string;
  private smbd: ChildProcess | null = null;
  private starts = 0;

  constructor(
    private readonly lab: Lab,
    shareName = 'data',
  ) {
    this.ns = `${lab.prefix}smb`;
    this.dir = join(lab.dir, 'samba');
    this.conf = join(this.dir, 'smb.conf');
    this.shareDir = join(this.dir, 'share');
    this.share = `//${this.address}/${shareName}`;
    this.credentialsFile = join(lab.dir, 'smb.cred');
  }

  /** Namespace, config, the SMB user with a random password, and smbd answering on 445. */
  async create(): Promise<void> {
    await createNamespace(this.ns);
    await run(['ip', 'netns', 'exec', this.ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    await cableToSwitch(this.lab.ns(SWITCH), this.ns, 'p-smb', this.address);
    for (const sub of ['private', 'lock', 'state', 'cache', 'pid', 'ncalrpc', 'log', 'share'])
      mkdirSync(join(this.dir, sub), { recursive: true, mode: 0o700 });
    writeFileSync(this.conf, this.config());
    const password = randomBytes(18).toString('base64url');
    // -s: the password from stdin (twice), never on a command line.
    await run([SMBPASSWD_BIN, '-c', this.conf, '-s', '-a', SMB_USER], {
      input: `${password}\n${password}\n`,
    });
    writeFileSync(this.credentialsFile, `username = ${SMB_USER}\npassword = ${password}\n`, { mode: 0o600 });
    await this.start();
  }

  private config(): string {
    const d = this.dir;
    return `[global]
  server role = standalone server
  workgroup = HALOLAB
  private dir = ${d}/private
  lock directory = ${d}/lock
  state directory = ${d}/state
  cache directory = ${d}/cache
  pid directory = ${d}/pid
  ncalrpc dir = ${d}/ncalrpc
  log file = ${d}/log/%m.log
  passdb backend = tdbsam:${d}/private/passdb.tdb
  interfaces = ${this.address}/24
  bind interfaces only = yes
  smb ports = 445
  server min protocol = SMB2_10
  map to guest = never
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
[data]
  path = ${this.shareDir}
  read only = no
  force user = root
`;
  }

  /** Starts smbd (foreground, its own log) and waits until port 445 accepts connections. */
  async start(): Promise<void> {
    this.starts += 1;
    const log = `smbd-${this.starts}`;
    const fd = openSync(this.lab.logFile(log), 'a');
    try {
      this.smbd = spawn(
        'ip',
        [
          'netns',
          'exec',
          this.ns,
          SMBD_BIN,
          '-F',
          '--no-process-group',
          '--debug-stdout',
          '-d',
          '1',
          '-s',
          this.conf,
        ],
        { stdio: ['ignore', fd, fd] },
      );
    } finally {
      closeSync(fd);
    }
    const child = this.smbd;
    await this.lab.waitFor(
      'smbd listening on 445',
      async () => {
        if (child.exitCode !== null) throw new LabError(`smbd exited:\n${this.lab.logs(log)}`);
        const r = await run(
          [
            'ip',
            'netns',
            'exec',
            this.ns,
            'timeout',
            '2',
            'bash',
            '-c',
            `exec 3<>/dev/tcp/${this.address}/445`,
          ],
          { allowFail: true },
        );
        return r.code === 0;
      },
      20_000,
    );
  }

  /** smbd and every process it forked die at once (a crashed file server); resolves when none is left. */
  async stop(): Promise<void> {
    await killNamespaceProcesses(this.ns, 5000);
    this.smbd = null;
  }

  async remove(): Promise<void> {
    await removeNamespace(this.ns);
    this.smbd = null;
  }
}
