import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DoctorReport } from '../../src/doctor/types.js';
import { HALO_CLI, type RunningCluster, startCluster } from '../support/cluster.js';
import { tempDir, writePrivate } from '../support/temp-dir.js';

/**
 * Doctor's network checks against real processes on loopback: an authenticated probe from
 * this node's peer port is answered by the running peer and the witness; a node with another
 * key is told apart from silence; once the local agent runs, its ports are recognised as its
 * own and its membership view answers for the peers.
 */

function doctor(c: RunningCluster, configFile: string, env: NodeJS.ProcessEnv = {}) {
  const full: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete full['HALO_API'];
  return new Promise<{ code: number | null; report: DoctorReport; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [HALO_CLI, 'doctor', '-c', configFile, '--node', 'n1', '--json'], {
      cwd: c.dir,
      env: full,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('close', (code) => {
      try {
        resolve({ code, report: JSON.parse(out) as DoctorReport, out });
      } catch {
        reject(new Error(`doctor printed no JSON (exit ${code}): ${out}${err}`));
      }
    });
  });
}

const statusOf = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id)?.status;

test('doctor probes the peer and the witness from the node’s peer port, and recognises its own running agent', async (t) => {
  const c = await startCluster(t, {
    nodes: ['n1', 'n2'],
    groups: {
      web: { nodes: ['n1', 'n2'], resources: { r: { type: 'script', start: 'true', stop: 'true' } } },
    },
  });
  await c.startAgent('n2');

  const pre = await doctor(c, c.configFile);
  assert.equal(statusOf(pre.report, 'peer:n2'), 'pass', pre.out);
  assert.equal(statusOf(pre.report, 'peer:witness'), 'pass', pre.out);
  assert.equal(statusOf(pre.report, 'api-port'), 'pass');
  assert.match(pre.report.checks.find((x) => x.id === 'api-port')?.message ?? '', /free/);
  assert.equal(statusOf(pre.report, 'file:cluster.secretFile'), 'pass');

  // The same cluster with another key: its frames fail authentication, which is not silence.
  const other = tempDir(t, 'halo-doctor-key-');
  writePrivate(join(other, 'cluster.key'), randomBytes(32).toString('hex'));
  const otherConfig = join(other, 'halo.yaml');
  writeFileSync(otherConfig, readFileSync(c.configFile, 'utf8'));
  const wrong = await doctor(c, otherConfig);
  assert.equal(statusOf(wrong.report, 'peer:n2'), 'fail', wrong.out);
  assert.match(wrong.report.checks.find((x) => x.id === 'peer:n2')?.message ?? '', /different cluster key/);
  assert.equal(wrong.code, 1, 'a FAIL makes the exit code 1');

  await c.startAgent('n1');
  const running = await doctor(c, c.configFile, { HALO_TOKEN: c.token('n1') });
  const api = running.report.checks.find((x) => x.id === 'api-port');
  assert.equal(api?.status, 'pass', running.out);
  assert.match(api?.message ?? '', /this node's agent \(n1\)/);
  assert.equal(statusOf(running.report, 'peer-port'), 'pass');
  await c.waitFor('n1 sees n2 up', async () =>
    (await c.status('n1')).nodes.every((n: { up: boolean }) => n.up),
  );
  const again = await doctor(c, c.configFile, { HALO_TOKEN: c.token('n1') });
  assert.equal(statusOf(again.report, 'peer:n2'), 'pass', again.out);
  assert.equal(statusOf(again.report, 'peer:witness'), 'pass', again.out);
});
