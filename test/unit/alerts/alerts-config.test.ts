import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { cli } from '../../support/run-cli.js';
import { tempDir, writePrivate } from '../../support/temp-dir.js';

function config(alerts: Record<string, unknown>) {
  return {
    cluster: { name: 'test', secretFile: 'cluster.key' },
    nodes: { n1: { address: '127.0.0.1' }, n2: { address: '127.0.0.2' } },
    witness: { address: '127.0.0.3' },
    alerts,
  };
}

const cases: Array<[string, Record<string, unknown>, string, string]> = [
  [
    'an unknown receiver type',
    { x: { type: 'pager' } },
    'alerts.x.type',
    'unknown alert receiver type; expected one of: script, webhook, smtp, snmp',
  ],
  [
    'a relative script path',
    { x: { type: 'script', path: 'alert.sh' } },
    'alerts.x.path',
    'expected an absolute path',
  ],
  ['a webhook without a url', { x: { type: 'webhook' } }, 'alerts.x.url', 'missing required key'],
  [
    'an unknown severity',
    { x: { type: 'snmp', host: 'nms', minSeverity: 'major' } },
    'alerts.x.minSeverity',
    'expected info, warning or critical',
  ],
  [
    'an unknown kind',
    { x: { type: 'snmp', host: 'nms', kinds: ['cpu'] } },
    'alerts.x.kinds[0]',
    'expected node, resource, fencing or attribute',
  ],
  [
    'mail without recipients',
    { x: { type: 'smtp', host: 'mx', from: 'a@b.c', to: [] } },
    'alerts.x.to',
    'expected at least one address',
  ],
  [
    'an unknown receiver key',
    { x: { type: 'snmp', host: 'nms', comunity: 'x' } },
    'alerts.x.comunity',
    'unknown key',
  ],
];

test('config validate reports each invalid alert receiver with the file, the path and what was expected', async (t) => {
  for (const [name, alerts, path, fragment] of cases) {
    await t.test(name, async (t) => {
      const dir = tempDir(t);
      writePrivate(join(dir, 'cluster.key'), 'k'.repeat(64));
      const file = join(dir, 'halo.yaml');
      writePrivate(file, stringify(config(alerts)));
      const { code, stderr } = await cli(['config', 'validate', file]);
      assert.equal(code, 2, stderr);
      const line = stderr.split('\n').find((l) => l.includes(`: ${path}: `));
      assert.ok(line, `a problem at ${path} in:\n${stderr}`);
      assert.ok(line.trimStart().startsWith(`${file}:`), line);
      assert.ok(line.includes(fragment), `"${fragment}" in: ${line}`);
    });
  }
});

test('a webhook secret file readable by other users is rejected with the chmod that fixes it', async (t) => {
  const dir = tempDir(t);
  writePrivate(join(dir, 'cluster.key'), 'k'.repeat(64));
  const key = writePrivate(join(dir, 'hook.key'), 'h'.repeat(32));
  chmodSync(key, 0o644);
  const file = join(dir, 'halo.yaml');
  writePrivate(
    file,
    stringify(config({ hook: { type: 'webhook', url: 'https://x.test/', secretFile: 'hook.key' } })),
  );
  const { code, stderr } = await cli(['config', 'validate', file]);
  assert.equal(code, 2);
  assert.match(stderr, /alerts\.hook\.secretFile: webhook secret file .* has mode 0644 .* run `chmod 600 /);
});

test('a valid alerts section validates, with defaults filled in', async (t) => {
  const dir = tempDir(t);
  writePrivate(join(dir, 'cluster.key'), 'k'.repeat(64));
  const file = join(dir, 'halo.yaml');
  writePrivate(
    file,
    stringify(
      config({
        log: { type: 'script', path: '/usr/local/bin/alert.sh', recipient: '/var/log/a.log' },
        hook: { type: 'webhook', url: 'https://x.test/', backoff: '2s' },
      }),
    ),
  );
  const { code, stdout, stderr } = await cli(['config', 'validate', '--json', file]);
  assert.equal(code, 0, stderr);
  const alerts = JSON.parse(stdout).alerts;
  assert.deepEqual(
    alerts.map((a: Record<string, unknown>) => [
      a['name'],
      a['type'],
      a['timeoutMs'],
      a['queueSize'],
      a['minSeverity'],
    ]),
    [
      ['log', 'script', 10000, 100, 'info'],
      ['hook', 'webhook', 10000, 100, 'info'],
    ],
  );
  assert.equal(alerts[0].timestampFormat, '%H:%M:%S.%06N');
  assert.equal(alerts[1].backoffMs, 2000);
  assert.equal(alerts[1].retries, 5);
});
