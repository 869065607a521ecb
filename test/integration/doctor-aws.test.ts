import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkAws } from '../../src/doctor/aws.js';
import { parseConfig } from '../../src/engine/config-catalog.js';
import { createLab, routesOf, startMoto } from '../support/moto.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Doctor's cloud part against moto_server: credentials are found through the default chain.
 * moto ignores DryRun (a DryRun CreateRoute really creates the route), so doctor must notice
 * that on a harmless read and send no write: the route tables stay untouched.
 */
test('doctor finds AWS credentials and never writes routes to an endpoint that ignores DryRun', async (t) => {
  const moto = await startMoto(t);
  const lab = await createLab(moto, ['n1', 'n2']);
  const dir = tempDir(t, 'halo-doctor-aws-');
  const config = parseConfig(
    `cluster: { name: aws, secretFile: cluster.key }
nodes:
  n1: { address: 10.0.10.11 }
  n2: { address: 10.0.20.12 }
witness: { address: 10.0.30.5 }
groups:
  failover:
    nodes: [n1, n2]
    resources:
      awsvip:
        type: aws-route-vip
        ip: 172.16.0.1
        routeTables: [${lab.routeTables.join(', ')}]
        eni: { n1: ${lab.enis['n1']}, n2: ${lab.enis['n2']} }
        endpoint: ${moto.endpoint}
        region: us-east-1
        localAddress: false
`,
    join(dir, 'halo.yaml'),
    { checkFiles: false, baseDir: dir },
  );
  const results = await checkAws(config, config.nodes[0]!);
  const creds = results.find((r) => r.id.startsWith('aws-credentials:'));
  assert.equal(creds?.status, 'pass', JSON.stringify(results));
  const iam = results.filter((r) => r.id.startsWith('aws-iam:'));
  assert.equal(iam.length, lab.routeTables.length);
  for (const r of iam) {
    assert.equal(r.status, 'warn', JSON.stringify(r));
    assert.match(r.message, /ignored DryRun/);
  }
  const routes = await routesOf(moto, lab.routeTables, '172.16.0.1/32');
  assert.deepEqual(
    Object.values(routes),
    lab.routeTables.map(() => undefined),
    'no route was written',
  );
});
