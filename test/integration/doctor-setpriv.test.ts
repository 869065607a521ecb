import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import type { DoctorReport } from '../../src/doctor/types.js';
import { SETPRIV_PATHS } from '../../src/engine/exec/index.js';
import { HALO_CLI } from '../support/cluster.js';
import { freePort } from '../support/ports-and-processes.js';
import { needPeer } from '../support/requirements.js';
import { tempDir, writePrivate } from '../support/temp-dir.js';

/**
 * `halo doctor` on a node whose config runs commands with `user:`: setpriv (util-linux) must
 * be where the agent looks for it. The agent looks in fixed system directories, not on PATH,
 * so a PATH without setpriv proves nothing; instead doctor runs in a private mount namespace
 * where /dev/null is bound over every setpriv, which is what a machine without util-linux's
 * setpriv looks like to both the agent and doctor.
 */

function run(argv: string[], cwd: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env: { ...process.env, HALO_API: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The shell lines that hide every setpriv the agent would find (the same file twice under merged /usr is fine). */
const HIDE_SETPRIV = SETPRIV_PATHS.map(
  (p) => `if [ -e ${p} ]; then mount --bind /dev/null ${p} || exit 97; fi`,
).join('; ');

test('doctor FAILs when setpriv is missing and a resource or monitor has user:, naming each key and util-linux', async (t) => {
  const installed = SETPRIV_PATHS.some((p) => existsSync(p));
  if (!needPeer(t, 'root, unshare(1) and setpriv (util-linux)', process.getuid?.() === 0 && installed))
    return;
  const dir = tempDir(t, 'halo-doctor-setpriv-');
  writePrivate(join(dir, 'cluster.key'), 'k'.repeat(64));
  const file = join(dir, 'halo.yaml');
  writeFileSync(
    file,
    stringify({
      cluster: { name: 'it', secretFile: 'cluster.key', timing: 'fast', unsafe: true },
      nodes: { n1: { address: '127.0.0.1', peerPort: await freePort(), apiPort: await freePort() } },
      groups: {
        web: {
          nodes: ['n1'],
          resources: {
            plain: { type: 'process', command: 'sleep 1000' },
            app: { type: 'process', command: 'sleep 1000', user: 'nobody' },
          },
        },
      },
      monitors: { disk: { type: 'script', command: 'true', user: 'nobody' } },
    }),
  );
  const doctor = ['doctor', '-c', file, '--node', 'n1', '--state-dir', join(dir, 'state')];

  const hidden = await run(
    [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      `${HIDE_SETPRIV}; exec "$@"`,
      'sh',
      process.execPath,
      HALO_CLI,
      ...doctor,
    ],
    dir,
  );
  assert.notEqual(hidden.code, 97, `could not hide setpriv: ${hidden.stderr}`);
  assert.equal(hidden.code, 1, hidden.stdout + hidden.stderr);
  const line = hidden.stdout.split('\n').find((l) => l.includes('Program setpriv'));
  assert.ok(line, hidden.stdout);
  assert.match(
    line,
    /^FAIL {2}Program setpriv: not found in \/usr\/bin\/setpriv, .*; groups\.web\.resources\.app\.user, monitors\.disk\.user need it: the agent runs a command with user: through setpriv --init-groups/,
  );
  assert.doesNotMatch(line, /plain/);
  assert.match(hidden.stdout, /Program setpriv: .*\n {6}fix: apt-get install util-linux\n/);

  // The same machine as it is: the check passes and says which setpriv and for what.
  const normal = await run([process.execPath, HALO_CLI, ...doctor, '--json'], dir);
  const report = JSON.parse(normal.stdout) as DoctorReport;
  const check = report.checks.find((c) => c.id === 'binary:setpriv');
  assert.equal(check?.status, 'pass', normal.stdout);
  assert.match(
    check?.message ?? '',
    /^\/\S*setpriv \(for groups\.web\.resources\.app\.user, monitors\.disk\.user\)$/,
  );

  // PATH does not decide it (the agent does not search PATH for setpriv either).
  const bare = await run(
    ['/usr/bin/env', `PATH=${dir}`, process.execPath, HALO_CLI, ...doctor, '--json'],
    dir,
  );
  const bareCheck = (JSON.parse(bare.stdout) as DoctorReport).checks.find((c) => c.id === 'binary:setpriv');
  assert.equal(bareCheck?.status, 'pass', bare.stdout);
});
