import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { groupsCluster, twoAgents } from './groups-support.js';

/**
 * Node-level monitors on real processes over loopback (issue #4): a failing node monitor makes
 * its node ineligible, its groups move away, and come back (or not) when it passes again.
 */

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer((socket) => socket.end());
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

const close = (srv: Server) => new Promise<void>((resolve) => srv.close(() => resolve()));
const portOf = (srv: Server) => (srv.address() as { port: number }).port;

const marker = {
  type: 'script',
  start: 'touch "$HALO_GROUP.$HALO_NODE"',
  stop: 'rm -f "$HALO_GROUP.$HALO_NODE"',
};

test('a failing node-level tcp check makes the node ineligible and moves its groups away; once it passes, only the autoFailback group returns', async (t) => {
  const c = await groupsCluster(t, {
    nodes: ['n1', 'n2'],
    groups: {
      back: { nodes: ['n1', 'n2'], autoFailback: true, resources: { m: marker } },
      stay: { nodes: ['n1', 'n2'], autoFailback: false, resources: { m: marker } },
    },
    monitors: {
      // One config for both nodes: each node connects to the port named in its own file.
      reach: {
        type: 'script',
        command: ['bash', '-c', 'exec 3<>"/dev/tcp/127.0.0.1/$(cat "port.$HALO_NODE")"'],
        interval: '200ms',
        timeout: '1s',
        retries: 0,
        onFailure: 'ineligible',
      },
    },
  });
  const servers = new Set<Server>();
  t.after(async () => {
    for (const s of servers) await close(s);
  });
  const open = async (node: string, port?: number) => {
    const srv = await listen(port);
    servers.add(srv);
    writeFileSync(join(c.dir, `port.${node}`), String(portOf(srv)));
    return srv;
  };
  const n1Port = await open('n1');
  await open('n2');
  const on = (group: string, node: string) => existsSync(join(c.dir, `${group}.${node}`));

  await twoAgents(c, () => on('back', 'n1') && on('stay', 'n1'));

  const port = portOf(n1Port);
  await close(n1Port);
  servers.delete(n1Port);
  await c.waitFor('both groups moved to n2', () => on('back', 'n2') && on('stay', 'n2'));
  assert.ok(!on('back', 'n1') && !on('stay', 'n1'), 'n1 stopped them');
  const ineligible = await c.status('n1');
  const self = ineligible.nodes.find((n: any) => n.name === 'n1');
  assert.equal(self.eligible, false);
  assert.match(self.reasons[0], /monitor reach failing: .*exit code 1/);
  assert.equal(ineligible.monitors[0].state, 'failing');
  await c.waitFor('n2 sees n1 ineligible', async () => {
    const n1 = (await c.status('n2')).nodes.find((n: any) => n.name === 'n1');
    return n1.eligible === false && /reach/.test(n1.reasons[0] ?? '');
  });

  await open('n1', port);
  await c.waitFor('n1 eligible again', async () => (await c.status('n1')).nodes[0].eligible);
  await c.waitFor('back returned to n1', () => on('back', 'n1') && !on('back', 'n2'));
  await sleep(1000);
  assert.ok(on('stay', 'n2') && !on('stay', 'n1'), 'stay (autoFailback false) stays on n2');
  const status = await c.status('n2');
  const owners = Object.fromEntries(status.groups.map((g: any) => [g.name, g.owner]));
  assert.deepEqual(owners, { back: 'n1', stay: 'n2' });
  const events = c.events('n1').filter((e) => e.type === 'recovery');
  assert.ok(events.some((e) => e.message === 'node ineligible while reach fails'));
  assert.ok(events.some((e) => e.message === 'node eligible again: reach passes'));
});
