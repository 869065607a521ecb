import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { MAX_CONFIG_BYTES } from '../../src/config/load.js';
import { parseConfig } from '../../src/engine/config-catalog.js';
import { isHaloError } from '../../src/errors.js';
import { startCluster } from '../support/cluster.js';

/**
 * A pushed config is parsed and checked off the agent's main thread (issue #19): a file near
 * the 4 MiB limit takes seconds to check, and before, every API request (and every resource
 * operation and monitor of the node) waited for it. No timing threshold here: the test counts
 * status answers that come back while the push is still being checked.
 */

test('while the agent checks a 4 MiB pushed config its API keeps answering; errors come back as before', async (t) => {
  const c = await startCluster(t, {
    nodes: ['n1'],
    witness: false,
    groups: { web: { nodes: ['n1'], resources: { s: { type: 'script', start: 'true', stop: 'true' } } } },
  });
  await c.startAgent('n1');
  await c.waitFor('web running', async () => (await c.status('n1')).groups[0]?.state === 'running');

  // The harness's config plus thousands of groups this node may run: close to the limit.
  const small = readFileSync(c.configFile, 'utf8');
  const doc = parse(small);
  const group = (j: number) => ({
    nodes: ['n1'],
    resources: {
      a: { type: 'script', start: `echo start ${j} with a long enough command line`, stop: 'true' },
      b: { type: 'script', start: 'true', stop: 'true', after: ['a'] },
    },
    monitors: { m: { type: 'script', target: 'a', command: 'true', interval: '10s' } },
  });
  const perGroup = Buffer.byteLength(stringify({ groups: { g99999: group(99999) } }));
  const count = Math.floor((MAX_CONFIG_BYTES - 100_000) / perGroup);
  for (let j = 0; j < count; j++) doc.groups[`g${j}`] = group(j);
  const yaml = stringify(doc);
  assert.ok(Buffer.byteLength(yaml) <= MAX_CONFIG_BYTES);
  const agentFile = realpathSync(c.configFile);
  // Here, in the test process, before the clock that matters starts.
  const epoch = parseConfig(yaml, agentFile, { checkFiles: false }).epoch.toString(16);

  let pushDone = false;
  const push = c.api('n1', 'PUT', '/v1/config', { yaml, epoch }).finally(() => {
    pushDone = true;
  });
  // Sequential status calls for as long as the push takes.
  const answered: number[] = [];
  while (!pushDone) {
    const started = performance.now();
    const s = await c.api('n1', 'GET', '/v1/status?peers=0');
    assert.equal(s.status, 200);
    if (!pushDone) answered.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 100));
  }
  const pushed = await push;
  assert.equal(pushed.status, 200, JSON.stringify(pushed.body).slice(0, 500));
  assert.equal(pushed.body.storedEpoch, epoch);
  assert.equal(pushed.body.changed, true);
  t.diagnostic(
    `${answered.length} status answers during the push (ms: ${answered.map(Math.round).join(', ')})`,
  );
  // On the main thread the check blocked every request behind it: one status at most got in.
  assert.ok(
    answered.length >= 5,
    `only ${answered.length} status answers while the push was checked (ms: ${answered.map(Math.round).join(', ')})`,
  );
  assert.equal(readFileSync(c.configFile, 'utf8'), yaml);
  const after = await c.status('n1');
  assert.equal(after.config.storedEpoch, epoch);
  assert.equal(after.config.pending, true);

  // A refused config gets the error the checks give on the main thread: file, line, path,
  // expectation. A small one: the worker checks every pushed config, whatever its size.
  const bad = stringify({ ...parse(small), colour: 'blue' });
  let expected: { code: string; message: string; details: unknown } | undefined;
  try {
    parseConfig(bad, agentFile, { baseDir: dirname(agentFile), absPath: agentFile });
  } catch (err) {
    assert.ok(isHaloError(err));
    expected = err.toJSON() as typeof expected;
  }
  assert.ok(expected, 'the bad config is refused locally too');
  const refused = await c.api('n1', 'PUT', '/v1/config', { yaml: bad, epoch: '1', dryRun: true });
  assert.equal(refused.status, 400);
  assert.deepEqual(refused.body.error, expected);
  assert.match(refused.body.error.message, new RegExp(`${agentFile}:\\d+:\\d+: colour: `));
});
