import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { tempDir } from './context.js';

/**
 * docs/cloud-azure.md promises that its configuration passes `halo config validate`, and
 * that the `dns` snippet is a valid resource. Both are checked with the built CLI, with
 * the /etc/halo files the example names created in a temp dir.
 */

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const halo = `${repoRoot}dist/src/cli/main.js`;

function yamlBlocks(): string[] {
  const text = readFileSync(join(repoRoot, 'docs', 'cloud-azure.md'), 'utf8');
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

function withFiles(dir: string, yamlText: string): string {
  for (const f of ['cluster.key', 'api.token', 'dns.key'])
    writeFileSync(join(dir, f), `${'0123456789abcdef'.repeat(4)}\n`, { mode: 0o600 });
  return yamlText.replaceAll('/etc/halo/', `${dir}/`);
}

test('the Azure configuration in docs/cloud-azure.md passes halo config validate', async (t) => {
  const dir = tempDir(t);
  const [config] = yamlBlocks();
  assert.ok(config?.includes('type: lb-probe'), 'the first yaml block is the full configuration');
  const file = join(dir, 'halo.yaml');
  writeFileSync(file, withFiles(dir, config ?? ''));
  const { stdout } = await run(process.execPath, [halo, 'config', 'validate', '--json', file], { cwd: dir });
  const parsed = JSON.parse(stdout);
  const group = parsed.groups[0];
  assert.deepEqual(
    group.resources.map((r: { name: string }) => r.name),
    ['vip', 'data', 'db', 'probe'],
  );
  const probe = group.resources.find((r: { name: string }) => r.name === 'probe');
  assert.equal(probe.params.probePort, 59999);
  assert.equal(probe.params.ip, '10.4.0.101');
  assert.deepEqual(parsed.cluster.keepalive, { idleMs: 230000, intervalMs: 1000, count: 5 });
  assert.deepEqual(parsed.nodes[0].links, ['10.4.1.11']);
});

test('the dns snippet in docs/cloud-azure.md is a valid resource of that group', async (t) => {
  const dir = tempDir(t);
  const [config, snippet] = yamlBlocks();
  assert.ok(snippet?.includes('type: dns'));
  const doc = parse(withFiles(dir, config ?? ''));
  const resource = parse(withFiles(dir, snippet ?? ''));
  Object.assign(doc.groups.sql.resources, resource);
  const file = join(dir, 'halo.yaml');
  writeFileSync(file, stringify(doc));
  const { stdout } = await run(process.execPath, [halo, 'config', 'validate', '--json', file], { cwd: dir });
  const dns = JSON.parse(stdout).groups[0].resources.find((r: { name: string }) => r.name === 'dbname');
  assert.equal(dns.params.name, 'db.corp.example');
  assert.equal(dns.params.ttl, 30);
  assert.equal(dns.params.callTimeout, 2000);
});

test('a dns resource whose address map names a node outside the group is refused with its path', async (t) => {
  const dir = tempDir(t);
  const [config, snippet] = yamlBlocks();
  const doc = parse(withFiles(dir, config ?? ''));
  const resource = parse(withFiles(dir, snippet ?? ''));
  resource.dbname.addresses.node3 = '10.4.0.13';
  Object.assign(doc.groups.sql.resources, resource);
  const file = join(dir, 'halo.yaml');
  writeFileSync(file, stringify(doc));
  await assert.rejects(
    run(process.execPath, [halo, 'config', 'validate', file], { cwd: dir }),
    (err: { stdout: string; stderr: string }) => {
      assert.match(
        `${err.stdout}${err.stderr}`,
        /groups\.sql\.resources\.dbname\.addresses\.node3.*not a node of group sql/,
      );
      return true;
    },
  );
});
