import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DoctorReport } from '../../src/doctor/types.js';
import { HALO_CLI } from '../support/cluster.js';
import { needPeer } from '../support/requirements.js';
import { tempDir, writePrivate } from '../support/temp-dir.js';

/**
 * Acceptance (issue #9): `halo doctor` on a node whose network namespace has
 * tcp_keepalive_time 7200 while cluster.keepalive.idle is 230 s → WARN with the exact
 * `sysctl -w` fix; after applying exactly those lines → PASS. Sysctls are per network
 * namespace, so everything happens in a namespace of our own: the host is never touched.
 */

const HOST_SYSCTL = '/proc/sys/net/ipv4/tcp_keepalive_time';
const isRoot = process.getuid?.() === 0;

function doctorIn(
  ns: string,
  configFile: string,
): { code: number | null; report: DoctorReport; raw: string } {
  const res = spawnSync(
    'ip',
    ['netns', 'exec', ns, process.execPath, HALO_CLI, 'doctor', '-c', configFile, '--node', 'n1', '--json'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  try {
    return { code: res.status, report: JSON.parse(res.stdout) as DoctorReport, raw: res.stdout };
  } catch {
    assert.fail(`doctor did not print JSON (exit ${res.status}):\n${res.stdout}\n${res.stderr}`);
  }
}

test('doctor WARNs about a namespace with tcp_keepalive_time 7200 and PASSes once its sysctl fix is applied', (t) => {
  if (!needPeer(t, 'root (for ip netns)', isRoot)) return;
  const ns = `halo-doctor-${randomBytes(3).toString('hex')}`;
  const hostBefore = readFileSync(HOST_SYSCTL, 'utf8');
  execFileSync('ip', ['netns', 'add', ns]);
  t.after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.tcp_keepalive_time=7200']);

  const dir = tempDir(t, 'halo-doctor-netns-');
  writePrivate(join(dir, 'cluster.key'), randomBytes(32).toString('hex'));
  const configFile = join(dir, 'halo.yaml');
  writeFileSync(
    configFile,
    `cluster:
  name: doc
  secretFile: cluster.key
  keepalive: { idle: 230s, interval: 1s, count: 5 }
nodes:
  n1: { address: 127.0.0.1, peerPort: 7401, apiPort: 7400 }
  n2: { address: 127.0.0.1, peerPort: 7411, apiPort: 7410 }
witness: { address: 127.0.0.1, port: 7402 }
groups:
  web:
    nodes: [n1, n2]
    resources:
      app: { type: script, start: 'true', stop: 'true' }
`,
  );

  const before = doctorIn(ns, configFile);
  const check = before.report.checks.find((c) => c.id === 'keepalive-sysctl');
  assert.equal(check?.status, 'warn', before.raw);
  assert.match(check.message, /tcp_keepalive_time=7200/);
  assert.ok(check.fix?.includes('sysctl -w net.ipv4.tcp_keepalive_time=230'), JSON.stringify(check.fix));
  assert.ok(check.notes?.some((n) => /SO_KEEPALIVE/.test(n)));
  assert.equal(before.code, before.report.summary.fail > 0 ? 1 : 0, 'exit code follows FAILs only');

  // Apply exactly the printed `sysctl -w` lines, inside the namespace.
  for (const line of check.fix ?? []) {
    if (!line.startsWith('sysctl -w ')) continue;
    execFileSync('ip', ['netns', 'exec', ns, ...line.split(' ')]);
  }
  const after = doctorIn(ns, configFile);
  const fixed = after.report.checks.find((c) => c.id === 'keepalive-sysctl');
  assert.equal(fixed?.status, 'pass', after.raw);
  assert.equal(readFileSync(HOST_SYSCTL, 'utf8'), hostBefore, "the host's sysctl is unchanged");
});
