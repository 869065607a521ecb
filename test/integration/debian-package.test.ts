import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { needPeer } from '../support/requirements.js';

/**
 * The Debian package as an administrator meets it: `npm run package` builds it, `dpkg -i`
 * installs it on this machine, and it is then upgraded, removed and purged, checking after
 * each step what Debian Policy (ch. 6, 10.7.3) promises: conffile edits survive an upgrade,
 * `remove` keeps configuration and state, `purge` deletes them. The package is always purged
 * at the end, and the test refuses to run where Halo is already installed.
 */

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
/** The Debian spelling of the version (scripts/build-deb.sh): "1.0.0-rc.1" becomes "1.0.0~rc.1". */
const debVersion = pkg.version.replace('-', '~');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { cwd: root, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

async function ok(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(cmd, args, env);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** dpkg, waiting while another dpkg/apt run (a parallel `install-test-deps.sh`) holds its lock. */
async function dpkg(args: string[]): Promise<Run> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const r = await run('dpkg', args);
    if (r.code === 0 || !/lock/i.test(r.stderr) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 2000));
  }
}

async function dpkgOk(args: string[]): Promise<void> {
  const r = await dpkg(args);
  assert.equal(r.code, 0, `dpkg ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
}

async function status(): Promise<string> {
  const r = await run('dpkg-query', ['-W', '-f', DPKG_STATUS, 'halo']);
  // A purged package may linger in dpkg's database as "un" (unknown, not installed).
  return r.code === 0 && !r.stdout.startsWith('u') ? r.stdout.trim() : 'not known';
}

/** dpkg-query's format (its own ${…} fields, not JavaScript's): "ii 0.1.0". */
const DPKG_STATUS = `\${db:Status-Abbrev}\${Version}`;

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');

/** The node package nodejs (>= 20) that the halo package depends on, as dpkg sees it. */
async function nodejsPackageOk(): Promise<boolean> {
  const r = await run('dpkg-query', ['-W', '-f', DPKG_STATUS, 'nodejs']);
  if (r.code !== 0 || !r.stdout.startsWith('ii')) return false;
  const version = r.stdout.slice(r.stdout.indexOf(' ')).trim();
  return (await run('dpkg', ['--compare-versions', version, 'ge', '20'])).code === 0;
}

test('the Debian package installs, upgrades keeping conffile edits, removes keeping config and state, and purges', {
  timeout: 600_000,
}, async (t) => {
  if (!needPeer(t, 'root (dpkg -i installs the package on this machine)', process.getuid?.() === 0)) return;
  const haveTools =
    (await run('dpkg-deb', ['--version'])).code === 0 && (await run('dpkg', ['--version'])).code === 0;
  if (!needPeer(t, 'dpkg and dpkg-deb', haveTools)) return;
  // No --force-depends: the package must install the way an admin installs it, so the machine
  // needs the nodejs package it depends on (NodeSource's or Debian trixie's nodejs 20+).
  if (!needPeer(t, 'Debian package nodejs (>= 20), the Depends of halo', await nodejsPackageOk())) return;
  const found = ['/usr/bin/halo', '/etc/halo', '/var/lib/halo', '/usr/lib/halo'].filter((p) => existsSync(p));
  const installed = await status();
  if (installed !== 'not known') found.push(`package halo ${installed}`);
  // A real install on this machine must never be touched (and purged) by a test.
  const what = `a machine without Halo installed (found: ${found.join(', ')})`;
  if (!needPeer(t, what, found.length === 0)) return;

  const work = mkdtempSync(join(tmpdir(), 'halo-deb-'));
  t.after(async () => {
    // Always leave the machine as we found it, whatever failed above.
    if ((await status()) !== 'not known') await dpkg(['--purge', 'halo']);
    rmSync(work, { recursive: true, force: true });
  });

  // Fast compression: the package is installed once here and thrown away.
  const built = await ok('npm', ['run', '--silent', 'package'], {
    HALO_DEB_OUT: work,
    HALO_DEB_XZ_LEVEL: '1',
  });
  const deb = join(work, `halo_${debVersion}_all.deb`);
  assert.equal(built.trim().split('\n').at(-1), deb);

  // The package's contents: no tests, no dev dependencies.
  const contents = await ok('dpkg-deb', ['--contents', deb]);
  // Not @types: protobufjs and logform depend on @types/* at run time.
  const devOnly = ['typescript', 'vite', '@biomejs', 'playwright-core', 'dependency-cruiser'];
  for (const absent of [
    './usr/lib/halo/dist/test/',
    './usr/lib/halo/dist/bench/',
    '/src/cli/main.ts',
    ...devOnly.map((name) => `./usr/lib/halo/node_modules/${name}/`),
  ])
    assert.ok(!contents.includes(absent), `the package must not contain ${absent}`);
  assert.equal(await ok('dpkg-deb', ['--field', deb, 'Depends']), 'nodejs (>= 20)\n');
  assert.equal(await ok('dpkg-deb', ['--field', deb, 'Version']), `${debVersion}\n`);

  await t.test('dpkg -i installs halo, a private cluster key and state directory', async () => {
    await dpkgOk(['--install', deb]);
    assert.equal(await status(), `ii ${debVersion}`);
    assert.equal(await ok('/usr/bin/halo', ['--version']), `halo ${pkg.version}\n`);
    assert.equal(
      await ok('halo', ['version'], { PATH: `/usr/bin:${process.env['PATH']}` }),
      `halo ${pkg.version}\n`,
    );
    const validated = await ok('/usr/bin/halo', ['config', 'validate', '/etc/halo/halo.yaml']);
    assert.match(validated, /^\/etc\/halo\/halo\.yaml: valid — cluster example: 2 nodes \+ witness/);
    assert.equal(mode('/etc/halo/cluster.key'), '0600');
    assert.match(readFileSync('/etc/halo/cluster.key', 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.equal(mode('/var/lib/halo'), '0700');
    assert.equal(mode('/etc/halo/halo.yaml'), '0644');
    for (const unit of ['halo-agent.service', 'halo-witness.service'])
      assert.ok(existsSync(`/lib/systemd/system/${unit}`), unit);
    assert.ok(!existsSync('/usr/lib/halo/dist/test'), 'no tests installed');
    const conffiles = await ok('dpkg-query', ['-W', '-f', `\${Conffiles}`, 'halo']);
    assert.match(conffiles, /\/etc\/halo\/halo\.yaml [0-9a-f]{32}/);
    // Every installed file matches the package's md5sums (`dpkg --verify` prints nothing).
    assert.equal(await ok('dpkg', ['--verify', 'halo']), '');
  });

  await t.test('the installed systemd units pass systemd-analyze verify', async (t) => {
    const analyze = (await run('systemd-analyze', ['--version'])).code === 0;
    if (!needPeer(t, 'systemd-analyze (Debian package systemd)', analyze)) return;
    // /etc/default/halo is the admin's (HALO_NODE); verify does not read EnvironmentFile.
    const r = await run('systemd-analyze', [
      'verify',
      '/lib/systemd/system/halo-agent.service',
      '/lib/systemd/system/halo-witness.service',
    ]);
    // Only lines about our units count: without systemd as PID 1 (a container) verify also
    // complains about the host's own units and missing /proc entries.
    const ours = `${r.stdout}\n${r.stderr}`
      .split('\n')
      .filter((l) => /halo-(agent|witness)\.service/.test(l));
    assert.deepEqual(ours, [], `systemd-analyze verify:\n${r.stdout}\n${r.stderr}`);
  });

  await t.test('an upgrade keeps the edited conffile, the cluster key and the state', async () => {
    appendFileSync('/etc/halo/halo.yaml', '# edited by the admin\n');
    const key = readFileSync('/etc/halo/cluster.key', 'utf8');
    writeFileSync('/var/lib/halo/marker', 'state\n');
    // The same package with a higher version, as the next release would be.
    const tree = join(work, 'next');
    await ok('dpkg-deb', ['--raw-extract', deb, tree]);
    const control = join(tree, 'DEBIAN/control');
    writeFileSync(
      control,
      readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${debVersion}+next1`),
    );
    const next = join(work, 'halo_next_all.deb');
    // Fast compression: only the control file differs from the package built above.
    await ok('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', tree, next]);
    await dpkgOk(['--install', next]);
    assert.equal(await status(), `ii ${debVersion}+next1`);
    assert.match(readFileSync('/etc/halo/halo.yaml', 'utf8'), /# edited by the admin\n$/);
    assert.equal(readFileSync('/etc/halo/cluster.key', 'utf8'), key);
    assert.equal(readFileSync('/var/lib/halo/marker', 'utf8'), 'state\n');
    assert.equal(await ok('/usr/bin/halo', ['--version']), `halo ${pkg.version}\n`);
  });

  await t.test('dpkg -r removes the program and keeps configuration and state', async () => {
    await dpkgOk(['--remove', 'halo']);
    assert.equal(await status(), `rc ${debVersion}+next1`);
    assert.ok(!existsSync('/usr/bin/halo'));
    assert.ok(!existsSync('/usr/lib/halo'));
    assert.ok(!existsSync('/lib/systemd/system/halo-agent.service'));
    assert.match(readFileSync('/etc/halo/halo.yaml', 'utf8'), /# edited by the admin\n$/);
    assert.equal(mode('/etc/halo/cluster.key'), '0600');
    assert.equal(readFileSync('/var/lib/halo/marker', 'utf8'), 'state\n');
  });

  await t.test('dpkg -P purges configuration, key and state', async () => {
    await dpkgOk(['--purge', 'halo']);
    assert.equal(await status(), 'not known');
    assert.ok(!existsSync('/etc/halo'));
    assert.ok(!existsSync('/var/lib/halo'));
  });
});
