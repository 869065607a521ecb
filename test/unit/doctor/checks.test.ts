import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HaloConfig } from '../../../src/config/model.js';
import { checkBinaries, checkSetpriv } from '../../../src/doctor/binaries.js';
import { checkClockSync } from '../../../src/doctor/clock-sync.js';
import { checkKeepaliveSysctls, readKeepaliveSysctls } from '../../../src/doctor/keepalive-sysctl.js';
import { pickNode, renderReport } from '../../../src/doctor/run-doctor.js';
import { checkSecretFiles } from '../../../src/doctor/secret-files.js';
import type { ExecFn } from '../../../src/doctor/types.js';
import { parseConfig } from '../../../src/engine/config-catalog.js';
import { tempDir } from '../../support/temp-dir.js';

const KA = { idleMs: 230_000, intervalMs: 1000, count: 5 };

function config(dir: string, extra = ''): HaloConfig {
  return parseConfig(
    `cluster:
  name: c
  secretFile: cluster.key
${extra}nodes:
  a: { address: 10.0.0.1 }
  b: { address: 10.0.0.2 }
witness: { address: 10.0.0.3, port: 7402 }
groups:
  g:
    nodes: [a, b]
    resources:
      vip: { type: ip, ip: 10.0.0.100, device: eth0 }
`,
    join(dir, 'halo.yaml'),
    { checkFiles: false, baseDir: dir },
  );
}

test('keepalive sysctls above the configured idle give a WARN with the exact sysctl lines', () => {
  const r = checkKeepaliveSysctls({ time: 7200, intvl: 75, probes: 9 }, KA);
  assert.equal(r.status, 'warn');
  assert.match(r.message, /7200 s, later than cluster\.keepalive\.idle 230 s/);
  assert.deepEqual(r.fix?.slice(0, 3), [
    'sysctl -w net.ipv4.tcp_keepalive_time=230',
    'sysctl -w net.ipv4.tcp_keepalive_intvl=1',
    'sysctl -w net.ipv4.tcp_keepalive_probes=5',
  ]);
  assert.match(r.fix?.[3] ?? '', /\/etc\/sysctl\.d\/90-halo-keepalive\.conf/);
  assert.ok(
    r.notes?.some((n) => n.includes('SO_KEEPALIVE')),
    'says the application must enable SO_KEEPALIVE',
  );
});

test('keepalive sysctls at or below the idle with fast enough probes PASS', () => {
  assert.equal(checkKeepaliveSysctls({ time: 230, intvl: 1, probes: 5 }, KA).status, 'pass');
  assert.equal(checkKeepaliveSysctls({ time: 120, intvl: 1, probes: 3 }, KA).status, 'pass');
});

test('slow dead-peer detection alone is a WARN that fixes only the values that differ', () => {
  const r = checkKeepaliveSysctls({ time: 200, intvl: 75, probes: 9 }, KA);
  assert.equal(r.status, 'warn');
  assert.deepEqual(r.fix?.slice(0, 2), [
    'sysctl -w net.ipv4.tcp_keepalive_intvl=1',
    'sysctl -w net.ipv4.tcp_keepalive_probes=5',
  ]);
});

test('sysctls are read from /proc/sys paths, and unreadable ones WARN', () => {
  const files: Record<string, string> = {
    '/proc/sys/net/ipv4/tcp_keepalive_time': '7200\n',
    '/proc/sys/net/ipv4/tcp_keepalive_intvl': '75\n',
    '/proc/sys/net/ipv4/tcp_keepalive_probes': '9\n',
  };
  assert.deepEqual(
    readKeepaliveSysctls((p) => files[p]),
    { time: 7200, intvl: 75, probes: 9 },
  );
  const none = readKeepaliveSysctls(() => undefined);
  assert.equal(checkKeepaliveSysctls(none, KA).status, 'warn');
});

const fakeExec =
  (answers: Record<string, { code: number | null; stdout: string }>): ExecFn =>
  async (file) => ({ ...(answers[file] ?? { code: null, stdout: '' }), stderr: '' });

test('clock sync passes on timedatectl or chrony, and WARNs when nothing can tell', async () => {
  assert.equal(
    (await checkClockSync(fakeExec({ timedatectl: { code: 0, stdout: 'yes\n' } }))).status,
    'pass',
  );
  const chrony = 'Reference ID    : 0A000001\nLeap status     : Normal\n';
  assert.equal((await checkClockSync(fakeExec({ chronyc: { code: 0, stdout: chrony } }))).status, 'pass');
  const unsynced = await checkClockSync(
    fakeExec({ chronyc: { code: 0, stdout: 'Leap status     : Not synchronised\n' } }),
  );
  assert.equal(unsynced.status, 'warn');
  assert.match(unsynced.message, /Not synchronised/);
  const unknown = await checkClockSync(fakeExec({}));
  assert.equal(unknown.status, 'warn');
  assert.match(unknown.message, /cannot tell/);
});

test('a world-readable or missing key file FAILs with chmod or openssl as the fix', (t) => {
  const dir = tempDir(t, 'halo-doctor-');
  const cfg = config(dir);
  assert.equal(checkSecretFiles(cfg)[0]?.status, 'fail');
  assert.match(checkSecretFiles(cfg)[0]?.fix?.[0] ?? '', /^openssl rand -hex 32 > /);
  const key = join(dir, 'cluster.key');
  writeFileSync(key, 'x'.repeat(64));
  chmodSync(key, 0o644);
  const open = checkSecretFiles(cfg)[0]!;
  assert.equal(open.status, 'fail');
  assert.deepEqual(open.fix, [`chmod 600 ${key}`]);
  chmodSync(key, 0o600);
  assert.equal(checkSecretFiles(cfg)[0]?.status, 'pass');
  writeFileSync(key, 'short');
  assert.match(checkSecretFiles(cfg)[0]?.message ?? '', /only 5 characters/);
});

test('an ip resource needs ip and arping; a missing one FAILs with the package to install', (t) => {
  const cfg = config(tempDir(t, 'halo-doctor-'));
  const self = cfg.nodes[0]!;
  const results = checkBinaries(cfg, self, (bin) => (bin === 'ip' ? '/usr/sbin/ip' : undefined));
  assert.deepEqual(
    results.map((r) => [r.id, r.status]),
    [
      ['binary:ip', 'pass'],
      ['binary:arping', 'fail'],
    ],
  );
  assert.deepEqual(results[1]?.fix, ['apt-get install iputils-arping']);
});

test('user: on a command this node runs needs setpriv; a missing one FAILs naming each user key and util-linux', (t) => {
  const dir = tempDir(t, 'halo-doctor-');
  const cfg = parseConfig(
    `cluster: { name: c, secretFile: cluster.key }
nodes:
  a: { address: 10.0.0.1 }
  b: { address: 10.0.0.2 }
witness: { address: 10.0.0.3, port: 7402 }
groups:
  web:
    nodes: [a, b]
    resources:
      plain: { type: process, command: sleep 1000 }
      app: { type: process, command: sleep 1000, user: www-data }
    monitors:
      probe: { type: script, target: app, command: 'true', user: nobody }
  elsewhere:
    nodes: [b]
    resources:
      job: { type: script, start: 'true', stop: 'true', user: backup }
monitors:
  disk: { type: script, command: 'true', user: nobody }
`,
    join(dir, 'halo.yaml'),
    { checkFiles: false, baseDir: dir },
  );
  const [a, b] = cfg.nodes as [HaloConfig['nodes'][0], HaloConfig['nodes'][0]];
  const missing = checkSetpriv(cfg, a, () => null);
  assert.equal(missing.length, 1);
  assert.equal(missing[0]!.id, 'binary:setpriv');
  assert.equal(missing[0]!.status, 'fail');
  assert.match(
    missing[0]!.message,
    /^not found in \/usr\/bin\/setpriv, .*; groups\.web\.resources\.app\.user, groups\.web\.monitors\.probe\.user, monitors\.disk\.user need it: .*setpriv --init-groups.*supplementary groups/,
  );
  // Node a never runs the group "elsewhere": its user: is node b's concern.
  assert.doesNotMatch(missing[0]!.message, /elsewhere/);
  assert.deepEqual(missing[0]!.fix, ['apt-get install util-linux']);
  assert.match(checkSetpriv(cfg, b, () => null)[0]!.message, /groups\.elsewhere\.resources\.job\.user/);
  const found = checkSetpriv(cfg, a, () => '/usr/bin/setpriv');
  assert.equal(found[0]!.status, 'pass');
  assert.match(found[0]!.message, /^\/usr\/bin\/setpriv \(for groups\.web\.resources\.app\.user, /);
});

test('no user: anywhere, no setpriv check', (t) => {
  const cfg = config(tempDir(t, 'halo-doctor-'));
  assert.deepEqual(
    checkSetpriv(cfg, cfg.nodes[0]!, () => null),
    [],
  );
});

test('the node is --node, else the only node with a local address; otherwise a usage error', (t) => {
  const cfg = config(tempDir(t, 'halo-doctor-'));
  assert.equal(pickNode(cfg, 'b').name, 'b');
  assert.equal(pickNode(cfg, undefined, new Set(['10.0.0.2'])).name, 'b');
  assert.throws(() => pickNode(cfg, undefined, new Set(['127.0.0.1'])), /pass --node NAME/);
  assert.throws(() => pickNode(cfg, 'zz'), /expected one of: a, b/);
});

test('the text report shows each status with its fix and a summary line', () => {
  const text = renderReport({
    cluster: 'c',
    node: 'a',
    configFile: '/etc/halo/halo.yaml',
    checks: [
      { id: 'x', title: 'X', status: 'pass', message: 'fine' },
      { id: 'y', title: 'Y', status: 'warn', message: 'meh', fix: ['do y'] },
      { id: 'z', title: 'Z', status: 'fail', message: 'bad', fix: ['do z'] },
    ],
    summary: { pass: 1, warn: 1, fail: 1 },
  });
  assert.match(text, /^PASS {2}X: fine$/m);
  assert.match(text, /^WARN {2}Y: meh\n {6}fix: do y$/m);
  assert.match(text, /^FAIL {2}Z: bad\n {6}fix: do z$/m);
  assert.match(text, /1 passed, 1 warnings, 1 failed/);
});
