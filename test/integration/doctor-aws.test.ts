import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ec2 from '@aws-sdk/client-ec2';
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
  // The layout reads: no route yet (created at the first start), the VIP outside 10.0.0.0/16,
  // the source/destination check off on both ENIs (createLab turns it off).
  const status = (id: string) => results.find((r) => r.id === id)?.status;
  for (const table of lab.routeTables) assert.equal(status(`aws-route:failover/awsvip:${table}`), 'warn');
  assert.equal(status('aws-vip-cidr:failover/awsvip'), 'pass');
  assert.equal(status('aws-source-dest-check:failover/awsvip:n1'), 'pass');
  assert.equal(status('aws-source-dest-check:failover/awsvip:n2'), 'pass');
  const routes = await routesOf(moto, lab.routeTables, '172.16.0.1/32');
  assert.deepEqual(
    Object.values(routes),
    lab.routeTables.map(() => undefined),
    'no route was written',
  );
});

test('doctor fails a VIP inside the VPC CIDR and an ENI with the source/destination check on', async (t) => {
  const moto = await startMoto(t);
  const lab = await createLab(moto, ['n1', 'n2']);
  await moto.client.send(
    new ec2.ModifyNetworkInterfaceAttributeCommand({
      NetworkInterfaceId: lab.enis['n2']!,
      SourceDestCheck: { Value: true },
    }),
  );
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
        ip: 10.0.99.1
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
  const find = (id: string) => results.find((r) => r.id === id);
  assert.equal(find('aws-vip-cidr:failover/awsvip')?.status, 'fail', JSON.stringify(results));
  assert.match(find('aws-vip-cidr:failover/awsvip')!.message, /inside 10\.0\.0\.0\/16/);
  assert.equal(find('aws-source-dest-check:failover/awsvip:n1')?.status, 'pass');
  const n2 = find('aws-source-dest-check:failover/awsvip:n2');
  assert.equal(n2?.status, 'fail');
  assert.match(n2!.fix![0]!, new RegExp(`--network-interface-id ${lab.enis['n2']} --no-source-dest-check`));
});
