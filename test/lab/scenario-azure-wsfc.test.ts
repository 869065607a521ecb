import { test } from 'node:test';
import { missingTools } from '../lab-kit/exec.js';
import { scenario } from '../scenarios/azure-wsfc.js';
import { needPeer } from '../support/requirements.js';
import { skipWithoutLab } from './support.js';

/** The WSFC-on-Azure deployment (docs/scenarios.md) end to end: the same code as `npm run scenario -- azure-wsfc`. */
test(`scenario ${scenario.name}: ${scenario.title}`, { timeout: 120_000 }, async (t) => {
  if (skipWithoutLab(t)) return;
  const missing = process.env['HALO_HAPROXY_BIN'] ? [] : missingTools(['haproxy']);
  if (!needPeer(t, `${missing.join(', ')} (the internal load balancer)`, missing.length === 0)) return;
  await scenario.run((line) => t.diagnostic(line));
});
