import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createNamespace, nextLabPrefix, removeNamespace } from '../lab-kit/netns.js';
import { HALO_CLI } from '../support/cluster.js';
import { needPeer } from '../support/requirements.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * `halo import keepalived` (issue #18) on the keepalived.conf of two nodes with two VRRP
 * instances, a track_script, notify scripts and what Halo does not convert (an LVS virtual
 * server, authentication, a label, notify_fault). Both files are first checked as real syntax
 * by `keepalived -t` inside a throw-away namespace that has their eth0 and eth1.
 */

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../test/integration/fixtures/keepalived/${name}`, import.meta.url));

test('two nodes’ keepalived.conf (two VRRP instances, a track_script) import into a config halo config validate accepts; the rest is listed', async (t) => {
  const ok = process.getuid?.() === 0 && existsSync('/usr/sbin/keepalived');
  if (!needPeer(t, 'root and keepalived (keepalived -t checks the input)', ok)) return;
  const ns = `${nextLabPrefix()}ka`;
  t.after(() => removeNamespace(ns));
  await createNamespace(ns);
  const ip = (...args: string[]) => spawnSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
  assert.equal(ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1').status, 0);
  for (const dev of ['eth0', 'eth1']) ip('link', 'set', dev, 'up');
  for (const file of ['n1.conf', 'n2.conf']) {
    const checked = spawnSync('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-f', fixture(file)], {
      encoding: 'utf8',
    });
    assert.equal(checked.status, 0, `keepalived -t -f ${file}: ${checked.stdout}${checked.stderr}`);
  }

  const dir = tempDir(t, 'halo-import-ka-');
  writeFileSync(join(dir, 'cluster.key'), 'k'.repeat(48), { mode: 0o600 });
  const imported = spawnSync(
    process.execPath,
    [
      HALO_CLI,
      'import',
      'keepalived',
      `n1=${fixture('n1.conf')}`,
      `n2=${fixture('n2.conf')}`,
      '--node',
      'n1=127.0.0.1',
      '--node',
      'n2=127.0.0.2',
      '--witness',
      '127.0.0.3',
      '--secret-file',
      'cluster.key',
      '-o',
      'halo.yaml',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  assert.equal(imported.status, 0, imported.stderr);
  const text = readFileSync(join(dir, 'halo.yaml'), 'utf8');
  const source = readFileSync(fixture('n1.conf'), 'utf8').split('\n');
  const lineOf = (needle: string) => source.findIndex((l) => l.includes(needle)) + 1;
  const report = imported.stderr.split('\n');
  for (const line of [
    `not converted: n1.conf:${lineOf('authentication {')}: authentication: not carried over (Halo signs every message with cluster.secretFile; the password is not copied)`,
    `not converted: n1.conf:${lineOf('label eth0:1')}: virtual_ipaddress entry 192.0.2.11/24: label eth0:1 not supported`,
    `not converted: n1.conf:${lineOf('virtual_server')}: virtual_server 192.0.2.10 80: not supported (Halo converts VRRP instances only)`,
    `not converted: n1.conf:${lineOf('notify_fault')}: notify_fault: not supported (a failed group raises an alert; see the alerts: section)`,
    `not converted: n1.conf:${lineOf('rise 2')}: vrrp_script chk_web: rise 2 is not supported`,
  ])
    assert.ok(report.includes(line), `${line}\nin\n${imported.stderr}`);
  assert.ok(!imported.stderr.includes('s3cr3tpw') && !text.includes('s3cr3tpw'), 'auth_pass is never copied');

  const validated = spawnSync(process.execPath, [HALO_CLI, 'config', 'validate', 'halo.yaml'], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(validated.status, 0, validated.stderr);
  assert.match(
    validated.stdout,
    /valid — cluster web-cluster: 2 nodes \+ witness, 2 groups, 4 resources, 1 monitor/,
  );

  const { groups } = parse(text);
  assert.deepEqual(groups.VI_WEB.nodes, ['n1', 'n2'], 'priority 150 on n1, 100 on n2');
  assert.equal(groups.VI_WEB.autoFailback, true, 'keepalived preempts by default');
  assert.deepEqual(groups.VI_WEB.resources.vip1, {
    type: 'ip',
    ip: '192.0.2.10',
    prefix: 24,
    device: 'eth0',
  });
  assert.deepEqual(groups.VI_WEB.resources.notify, {
    type: 'script',
    start: '/bin/echo master',
    stop: '/bin/echo backup',
    after: ['vip1', 'vip2'],
  });
  assert.deepEqual(groups.VI_WEB.monitors.chk_web, {
    type: 'script',
    command: ['/usr/bin/pgrep', '-x', 'nginx'],
    interval: '2s',
    timeout: '3s',
    retries: 2,
    onFailure: 'failover',
  });
  assert.deepEqual(groups.VI_DB.nodes, ['n2', 'n1'], 'priority 200 on n2, 90 on n1');
  assert.equal(groups.VI_DB.autoFailback, false, 'nopreempt');
  assert.equal(groups.VI_DB.resources.vip1.device, 'eth1', 'the instance interface');
});
