import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunningCluster, startCluster } from '../support/cluster.js';

/**
 * Cold start with wait-for-all (`cluster.waitForAll`), on real agents over loopback: a
 * witness, two agents, one group `web` with `nodes: [n1, n2]` whose script resource keeps a
 * marker file named after the node it runs on. A sampler looks at both markers every 15 ms
 * for the whole test and fails it if both ever exist at once.
 */

const groups = {
  web: {
    nodes: ['n1', 'n2'],
    resources: {
      marker: {
        type: 'script',
        start: 'touch "marker.$HALO_NODE"',
        stop: 'rm -f "marker.$HALO_NODE"',
        check: 'test -f "marker.$HALO_NODE" || exit 7',
      },
    },
  },
};

/** Samples which nodes have the marker every 15 ms until stopped. */
function sampleMarkers(c: RunningCluster) {
  const seen = new Set<string>();
  let both = 0;
  let samples = 0;
  const timer = setInterval(() => {
    const on = ['n1', 'n2'].filter((n) => existsSync(join(c.dir, `marker.${n}`)));
    for (const n of on) seen.add(n);
    if (on.length > 1) both++;
    samples++;
  }, 15);
  return {
    stop() {
      clearInterval(timer);
      return { seen: [...seen].sort(), both, samples };
    },
  };
}

/** The agent's log lines that are JSON objects with this `msg`. */
function logLines(c: RunningCluster, node: string, msg: string): Array<Record<string, unknown>> {
  return c
    .logs(node)
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Runs `body`; on failure the agents' coordination log lines go to the test output. */
async function withLogs(t: TestContext, c: RunningCluster, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    for (const node of ['n1', 'n2', 'witness']) {
      const lines = c
        .logs(node)
        .split('\n')
        .filter((l) => /cold-start|lease|quorum|coordination|clock/.test(l));
      t.diagnostic(`--- ${node}\n${lines.slice(-30).join('\n')}`);
    }
    throw err;
  }
}

const acquired = (c: RunningCluster, node: string) =>
  c.events(node).some((e) => e.type === 'lease' && /acquired/.test(e.message) && e.group === 'web');

test('cold start in the wrong order: n2 starts first, n1 two seconds later, and the group starts on n1', async (t) => {
  const c = await startCluster(t, { nodes: ['n1', 'n2'], groups, waitForAll: '10s' });
  const sampler = sampleMarkers(c);
  t.after(() => sampler.stop());
  await withLogs(t, c, async () => {
    await c.startAgent('n2');
    await sleep(2000);
    await c.startAgent('n1');
    await c.waitFor('web running on n1', () => existsSync(join(c.dir, 'marker.n1')), 30_000);
    await c.waitFor('n1 owns web by status', async () => (await c.status('n1')).groups[0].owner === 'n1');
    await sleep(1000);
    const result = sampler.stop();
    assert.ok(result.samples > 50, 'the sampler ran');
    assert.equal(result.both, 0, 'never a marker on both nodes');
    assert.deepEqual(result.seen, ['n1'], 'the group never started on n2');
    assert.equal(acquired(c, 'n2'), false, 'n2 never held the lease');
    const waited = logLines(c, 'n2', 'cold-start wait over');
    assert.equal(waited.length, 1, c.logs('n2').slice(-3000));
    assert.equal(waited[0]!['reason'], 'all-voters', 'n2 waited for every voter, not for the bound');
  });
});

test('cold start when the preferred node never comes: after the wait the group starts on n2, and a late n1 joins without taking it', async (t) => {
  const c = await startCluster(t, { nodes: ['n1', 'n2'], groups, waitForAll: '3s' });
  const sampler = sampleMarkers(c);
  t.after(() => sampler.stop());
  await withLogs(t, c, async () => {
    const startedAt = Date.now();
    await c.startAgent('n2');
    await c.waitFor('web running on n2', () => existsSync(join(c.dir, 'marker.n2')), 30_000);
    const startedAfterMs = Date.now() - startedAt;
    assert.ok(startedAfterMs >= 3000, `n2 waited for the bound before starting web (${startedAfterMs} ms)`);
    const waited = logLines(c, 'n2', 'cold-start wait over');
    assert.equal(waited.length, 1);
    assert.equal(waited[0]!['reason'], 'timeout');
    assert.deepEqual(waited[0]!['missing'], ['n1']);
    const log = c.logs('n2');
    assert.ok(
      log.indexOf('"msg":"cold-start wait over"') < log.indexOf('"msg":"lease acquired"'),
      'the lease was acquired after the wait ended',
    );

    // n1 arrives later: it finds a running cluster, does not wait, and (autoFailback is off)
    // leaves the group where it is.
    await c.startAgent('n1');
    await c.waitFor('n1 past its wait', () => logLines(c, 'n1', 'cold-start wait over').length > 0);
    assert.equal(logLines(c, 'n1', 'cold-start wait over')[0]!['reason'], 'joined-running-cluster');
    await c.waitFor('n1 sees n2 own web', async () => (await c.status('n1')).groups[0].owner === 'n2');
    await sleep(1500);
    const result = sampler.stop();
    assert.equal(result.both, 0, 'never a marker on both nodes');
    assert.deepEqual(result.seen, ['n2']);
    assert.equal(acquired(c, 'n1'), false);
  });
});
