import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports-and-processes.js';
import { tempDir, writePrivate } from './temp-dir.js';

/**
 * A real BIND 9 `named` on 127.0.0.1 for tests: a free port (UDP and TCP), a temp dir with
 * one primary zone open to dynamic updates signed with one TSIG key (hmac-sha256), run in
 * the foreground (`-g`) and SIGKILLed when the test ends, also on failure.
 */

export const NAMED = '/usr/sbin/named';
export const DIG = '/usr/bin/dig';

export interface Bind {
  address: string;
  port: number;
  zone: string;
  keyName: string;
  /** Base64 secret the server knows. */
  secret: string;
  /** A 0600 BIND key file with the server's key, for the `dns` resource. */
  keyFile: string;
  dir: string;
  /** Writes a 0600 key file with `keyName` and another (or the same) secret. */
  writeKeyFile(path: string, secret?: string, name?: string): string;
  /** Addresses `dig` gets from this server for `name` (A by default). */
  dig(name: string, type?: 'A' | 'AAAA' | 'TXT'): Promise<string[]>;
  log(): string;
  /** Process id of named (tests freeze it with SIGSTOP). */
  pid(): number;
}

interface Hooks {
  after(fn: () => unknown): void;
}

/** A loopback port free for both TCP and UDP (DNS uses both). */
export const freeDnsPort = freePort;

export function bindKeyFile(name: string, secret: string): string {
  return `key "${name}" {\n\talgorithm hmac-sha256;\n\tsecret "${secret}";\n};\n`;
}

export async function startBind(t: Hooks, zone = 'example.test'): Promise<Bind> {
  const dir = tempDir(t as never, 'halo-bind-');
  const keyName = 'halo-key';
  const secret = randomBytes(32).toString('base64');
  const keyFile = writePrivate(join(dir, 'halo.key'), bindKeyFile(keyName, secret));
  const zoneFile = join(dir, `${zone}.zone`);
  writeFileSync(
    zoneFile,
    [
      '$TTL 60',
      `@ IN SOA ns1.${zone}. hostmaster.${zone}. ( 1 60 60 600 30 )`,
      `@ IN NS ns1.${zone}.`,
      'ns1 IN A 127.0.0.1',
      '',
    ].join('\n'),
  );
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeDnsPort();
    writeFileSync(
      join(dir, 'named.conf'),
      `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  allow-transfer { none; };
};
controls { };
include "${keyFile}";
zone "${zone}" {
  type primary;
  file "${zoneFile}";
  update-policy { grant ${keyName} zonesub ANY; };
};
`,
    );
    const child = spawn(NAMED, ['-g', '-4', '-n', '1', '-c', join(dir, 'named.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout!.on('data', (b) => (log += b));
    child.stderr!.on('data', (b) => (log += b));
    t.after(() => kill(child));
    try {
      await waitRunning(child, () => log);
      // "running" is logged even when the listener could not bind (the port was taken after
      // we picked it): make sure the zone is served on that port before handing it out.
      await answersSoa(port, zone);
    } catch (err) {
      lastError = err;
      kill(child);
      continue;
    }
    const bind: Bind = {
      address: '127.0.0.1',
      port,
      zone,
      keyName,
      secret,
      keyFile,
      dir,
      writeKeyFile: (path, s = secret, name = keyName) => writePrivate(path, bindKeyFile(name, s)),
      dig: (name, type = 'A') =>
        new Promise((resolve, reject) =>
          execFile(
            DIG,
            ['+short', '+norecurse', '+time=2', '+tries=2', '-p', String(port), '@127.0.0.1', name, type],
            (err, stdout) => (err ? reject(err) : resolve(stdout.split('\n').filter(Boolean))),
          ),
        ),
      log: () => log,
      pid: () => child.pid ?? -1,
    };
    return bind;
  }
  throw new Error(`named did not start: ${String(lastError)}`);
}

async function waitRunning(child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (/\brunning\b/.test(log())) return;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`named exited:\n${log()}`);
    await sleep(25);
  }
  throw new Error(`named did not report running within 20s:\n${log()}`);
}

function answersSoa(port: number, zone: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(
      DIG,
      ['+short', '+norecurse', '+time=1', '+tries=3', '-p', String(port), '@127.0.0.1', zone, 'SOA'],
      (err, stdout) =>
        err || stdout.trim() === '' ? reject(new Error(`named does not answer on port ${port}`)) : resolve(),
    ),
  );
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
