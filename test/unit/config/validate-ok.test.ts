import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const halo = `${repoRoot}dist/src/cli/main.js`;

test('the example cluster config (examples/seed-aws.yaml) validates with a one-line summary', async () => {
  const { stdout } = await run(process.execPath, [halo, 'config', 'validate', 'examples/seed-aws.yaml'], {
    cwd: repoRoot,
  });
  assert.match(
    stdout,
    /^examples\/seed-aws\.yaml: valid — cluster minio-ha: 2 nodes \+ witness, 1 group, 2 resources, 3 monitors/,
  );
  assert.equal(stdout.trim().split('\n').length, 1);
});

test('--json prints the normalized config with defaults filled in', async () => {
  const { stdout } = await run(
    process.execPath,
    [halo, 'config', 'validate', '--json', 'examples/seed-aws.yaml'],
    { cwd: repoRoot },
  );
  const config = JSON.parse(stdout);
  assert.deepEqual(config.cluster.timing, {
    profile: 'default',
    heartbeatMs: 300,
    leaseMs: 2000,
    renewMs: 300,
    stopBudgetMs: 600,
  });
  assert.deepEqual(config.cluster.keepalive, { idleMs: 230000, intervalMs: 1000, count: 5 });
  assert.equal(config.cluster.waitForAllMs, 10_000, 'cold start waits up to 10 s for every voter');
  assert.equal(config.nodes[0].peerPort, 7401);
  assert.equal(config.nodes[0].apiPort, 7400);
  const group = config.groups[0];
  assert.deepEqual(
    group.resources.map((r: { name: string }) => r.name),
    ['awsvip', 'script_minio'],
  );
  assert.deepEqual(group.resources[1].params.timeout, { start: 60000, stop: 60000, check: 20000 });
  assert.deepEqual(group.monitors[0].onFailure, { restart: 1, then: 'failover' });
  assert.deepEqual(config.monitors[0].onFailure, { restart: 0, then: 'ineligible' });
  assert.equal(config.monitors[0].intervalMs, 60000);
});

test('halo --help lists the commands and exits 0; an unknown command exits 2', async () => {
  const { stdout } = await run(process.execPath, [halo, '--help']);
  assert.match(stdout, /halo config validate FILE/);
  await assert.rejects(
    run(process.execPath, [halo, 'frobnicate']),
    (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /unknown command "frobnicate"/);
      return true;
    },
  );
});
