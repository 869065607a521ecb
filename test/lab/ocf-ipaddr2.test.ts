import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { SUBNET_PREFIX } from '../lab-kit/topology.js';
import { needPeer } from '../support/requirements.js';
import { assertOwner, runScenario } from './support.js';

/**
 * Debian's real heartbeat/IPaddr2 (package resource-agents) as the lab's VIP, run by Halo's
 * `ocf` resource instead of its own `ip` type (issue #18): the address follows the group on a
 * planned move and when the owner's agent is killed (its deadman helper runs IPaddr2's stop),
 * and the split-brain checker never sees it on two nodes.
 */

const IPADDR2 = '/usr/lib/ocf/resource.d/heartbeat/IPaddr2';

test('heartbeat/IPaddr2 under Halo in the namespace lab: the address follows the group on a move and on kill -9 of the owner agent, never on two nodes', (t) => {
  if (!needPeer(t, 'resource-agents (/usr/lib/ocf/resource.d/heartbeat/IPaddr2)', existsSync(IPADDR2)))
    return;
  return runScenario(
    t,
    {
      groups: {
        vip: {
          nodes: ['n1', 'n2'],
          resources: {
            vip: {
              type: 'ocf',
              agent: 'ocf:heartbeat:IPaddr2',
              params: { ip: `${SUBNET_PREFIX}.200`, cidr_netmask: 32, nic: 'eth0' },
            },
          },
          monitors: { up: { type: 'resource', target: 'vip', interval: '1s', timeout: '10s' } },
        },
      },
    },
    async (s) => {
      await assertOwner(s, 'n1');
      const moved = await s.lab.api('n1', 'POST', '/v1/groups/vip/move', { to: 'n2' });
      assert.equal(moved.status, 202, JSON.stringify(moved.body));
      await assertOwner(s, 'n2');
      await s.lab.signal('n2', 'SIGKILL');
      await assertOwner(s, 'n1');
      await s.assertNoSplitBrain();
    },
  );
});
