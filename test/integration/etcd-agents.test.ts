import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { HALO_CLI } from '../support/cluster.js';
import { ETCD_BIN, etcdAvailable, startEtcdAgents, startEtcdCluster } from '../support/etcd-cluster.js';
import { handoverProblems } from '../support/ownership-records.js';
import { needPeer } from '../support/requirements.js';

/**
 * Two real agents in etcd mode against a real 3-member etcd: the agent runs the etcd backend in
 * its coordination worker, the deadman helper is armed as in embedded mode, and a killed owner
 * agent's group moves only after its resources were stopped by the helper.
 */

const markerGroup = {
  web: {
    nodes: ['n1', 'n2'],
    resources: {
      marker: {
        type: 'script',
        start: 'echo "$HALO_TERM" > "marker.$HALO_NODE"',
        stop: 'if [ -f "marker.$HALO_NODE" ]; then rm -f "marker.$HALO_NODE"; date +%s%3N > "removed.$HALO_NODE"; fi',
        check: 'test -f "marker.$HALO_NODE" || exit 7',
      },
    },
  },
};

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('in etcd mode a killed owner agent is fenced by its deadman helper before the standby starts the group', async (t) => {
  if (!needPeer(t, `etcd (${ETCD_BIN}; Debian package etcd-server)`, etcdAvailable())) return;
  const etcd = await startEtcdCluster(t);
  const agents = await startEtcdAgents(t, {
    endpoints: etcd.endpoints,
    nodes: ['n1', 'n2'],
    groups: markerGroup,
    cli: HALO_CLI,
  });
  await agents.start('n1');
  await waitFor('web running on n1', () => existsSync(join(agents.dir, 'marker.n1')));
  await agents.start('n2');
  await new Promise((r) => setTimeout(r, 1000));
  const term1 = readFileSync(join(agents.dir, 'marker.n1'), 'utf8').trim();
  assert.ok(!existsSync(join(agents.dir, 'marker.n2')), 'the standby does not start the group');

  await agents.kill('n1', 'SIGKILL');
  await waitFor('marker removed by the deadman helper', () => !existsSync(join(agents.dir, 'marker.n1')));
  await waitFor('web running on n2', () => existsSync(join(agents.dir, 'marker.n2')));
  const removedMs = Number(readFileSync(join(agents.dir, 'removed.n1'), 'utf8'));
  const grant = await waitFor('n2 grant event', () =>
    agents.events('n2').find((e) => e['type'] === 'lease' && /acquired/.test(String(e['message']))),
  );
  const term2 = readFileSync(join(agents.dir, 'marker.n2'), 'utf8').trim();
  assert.deepEqual(
    handoverProblems({
      stoppedAtMs: removedMs,
      grantedAtMs: Date.parse(String(grant['ts'])),
      oldTerm: term1,
      newTerm: term2,
    }),
    [],
  );
});
