import { test } from 'node:test';
import { awsMinioMissing, scenario } from '../scenarios/aws-minio.js';
import { needPeer } from '../support/requirements.js';
import { skipWithoutLab } from './support.js';

/**
 * The CLUSTERPRO X on AWS deployment (docs/scenarios.md) end to end in the namespace lab, the same code as
 * `npm run scenario -- aws-minio`: its steps and the downtime of each failover go to the test
 * output as diagnostics. Needs the lab, moto_server and Chromium (skipped without, failed
 * under CI=true).
 */
test(`scenario aws-minio: ${scenario.title}`, { timeout: 150_000 }, async (t) => {
  if (skipWithoutLab(t)) return;
  const missing = awsMinioMissing();
  if (!needPeer(t, `${missing.join(', ')} (aws-minio scenario)`, missing.length === 0)) return;
  await scenario.run((line) => t.diagnostic(line));
});
