import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunningCluster } from '../support/cluster.js';
import { alive, groupsCluster, twoAgents } from './groups-support.js';

/**
 * Group recovery on real processes over loopback (issue #4): two agents and a witness with the
 * fast timing profile; resources are shell scripts working in the cluster's temp dir, so marker
 * files show what ran where and when.
 */

type Cluster = RunningCluster;

const read = (c: Cluster, file: string) => readFileSync(join(c.dir, file), 'utf8').trim();
const has = (c: Cluster, file: string) => existsSync(join(c.dir, file));
const find = (events: any[], pred: (e: any) => boolean) => events.find(pred);

/** `GET /v1/events` (server-sent events): the history, read until `done` says enough. */
async function streamedEvents(c: Cluster, node: string, done: (events: any[]) => boolean): Promise<any[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 5000);
  const events: any[] = [];
  try {
    const res = await fetch(`http://127.0.0.1:${c.ports[node]!.api}/v1/events?history=1000`, {
      headers: { authorization: `Bearer ${c.token(node)}` },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += Buffer.from(chunk).toString('utf8');
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        for (const line of buffer.slice(0, end).split('\n'))
          if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
      }
      if (done(events)) break;
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return events;
}

test('a process monitor restarts its failed server once on the same node, then fails the group over, and every step is an event', async (t) => {
  const id = `halo-srv-${randomUUID().slice(0, 8)}`;
  const server =
    'const s=require("http").createServer((q,r)=>r.end(process.argv[1]));' +
    's.listen(0,"127.0.0.1",()=>require("fs").writeFileSync("port."+process.argv[1],String(s.address().port)))';
  const c = await groupsCluster(t, {
    nodes: ['n1', 'n2'],
    groups: {
      app: {
        nodes: ['n1', 'n2'],
        resources: {
          srv: {
            type: 'script',
            // A real HTTP server in the background: the start script returns once it listens.
            start: [
              'rm -f "port.$HALO_NODE"',
              `"${process.execPath}" -e '${server}' "$HALO_NODE" ${id} >/dev/null 2>&1 &`,
              'echo $! > "pid.$HALO_NODE"',
              'i=0; while [ ! -s "port.$HALO_NODE" ]; do i=$((i+1)); [ $i -gt 100 ] && exit 1; sleep 0.05; done',
              'echo "listening on $(cat port.$HALO_NODE)"',
            ].join('\n'),
            stop: 'if [ -f "pid.$HALO_NODE" ]; then kill "$(cat pid.$HALO_NODE)" 2>/dev/null; rm -f "pid.$HALO_NODE" "port.$HALO_NODE"; fi; exit 0',
          },
        },
        monitors: {
          watch: {
            type: 'process',
            target: 'srv',
            match: id,
            interval: '200ms',
            timeout: '1s',
            retries: 0,
            onFailure: { restart: 1, then: 'failover' },
          },
        },
      },
    },
  });
  await twoAgents(c, () => has(c, 'pid.n1'));
  const serving = async (node: string) => {
    if (!has(c, `port.${node}`) || !has(c, `pid.${node}`)) return false;
    const res = await fetch(`http://127.0.0.1:${read(c, `port.${node}`)}/`);
    return (await res.text()) === node ? Number(read(c, `pid.${node}`)) : false;
  };
  const first = await c.waitFor('the server answering on n1', () => serving('n1'));
  await c.waitFor('the monitor passing on n1', async () => {
    const g = (await c.status('n1')).groups[0];
    return g.monitors[0].state === 'passing';
  });

  process.kill(first, 'SIGKILL');
  const second = await c.waitFor('a new server on n1', async () => {
    const pid = await serving('n1').catch(() => false as const);
    return pid !== false && pid !== first ? pid : false;
  });
  assert.ok(!has(c, 'pid.n2'), 'the restart stays on n1');

  process.kill(second, 'SIGKILL');
  await c.waitFor('the server answering on n2', () => serving('n2'));
  const logged = (node: string, message: string) =>
    c.waitFor(`"${message}" in ${node}'s event log`, () => c.events(node).some((e) => e.message === message));
  await logged('n1', 'app stopped');
  await logged('n2', 'app started');

  const n1 = c.events('n1');
  const n2 = c.events('n2');
  const failed = n1.filter(
    (e) => e.type === 'monitor' && e.monitor === 'app/watch' && /failed/.test(e.message),
  );
  assert.equal(failed.length, 2, 'the monitor failed twice');
  assert.match(failed[0].output, new RegExp(`0 processes match /${id}/`));
  const restart = find(n1, (e) => e.type === 'recovery' && /^srv restarted/.test(e.message));
  const failover = find(n1, (e) => e.type === 'recovery' && /failover of app decided/.test(e.message));
  const stopped = find(n1, (e) => e.type === 'group' && e.message === 'app stopped');
  const started = find(n2, (e) => e.type === 'group' && e.message === 'app started');
  assert.ok(restart && failover && stopped && started, 'restart, failover, stop and start are logged');
  assert.match(failover.message, /0 processes match/);
  assert.ok(failed[0].seq < restart.seq && restart.seq < failed[1].seq && failed[1].seq < failover.seq);
  assert.ok(failover.seq < stopped.seq);
  assert.ok(Date.parse(stopped.ts) <= Date.parse(started.ts), 'n2 starts after n1 stopped');

  // The same steps through the API's event stream of each node.
  const streamed1 = await streamedEvents(c, 'n1', (es) => es.some((e) => e.message === 'app stopped'));
  for (const e of [failed[0], restart, failover, stopped])
    assert.ok(
      streamed1.some((s) => s.seq === e.seq && s.message === e.message),
      `n1 streams "${e.message}"`,
    );
  const streamed2 = await streamedEvents(c, 'n2', (es) => es.some((e) => e.message === 'app started'));
  assert.ok(streamed2.some((s) => s.seq === started.seq && s.message === 'app started'));

  const status = await c.status('n2');
  assert.equal(status.groups[0].owner, 'n2');
  assert.deepEqual(status.groups[0].intent.failedNodes, ['n1']);
});

test('a start script that fails on the preferred node runs the group on the other node, and both nodes show why', async (t) => {
  const c = await groupsCluster(t, {
    nodes: ['n1', 'n2'],
    groups: {
      app: {
        nodes: ['n1', 'n2'],
        resources: {
          disk: {
            type: 'script',
            start:
              '[ "$HALO_NODE" = n1 ] && { echo checking /srv/data; echo disk not mounted; exit 1; }; touch "up.$HALO_NODE"',
            stop: 'rm -f "up.$HALO_NODE"',
          },
        },
      },
    },
  });
  await twoAgents(c, () => c.events('n1').some((e) => /marked failed/.test(e.message)));
  await c.waitFor('app running on n2', () => has(c, 'up.n2'));
  for (const node of ['n1', 'n2']) {
    const g = await c.waitFor(`${node} sees app running on n2 with n1 marked failed`, async () => {
      const s = (await c.status(node)).groups[0];
      return s.owner === 'n2' && s.intent.failedNodes.includes('n1') ? s : false;
    });
    assert.deepEqual(g.intent.failedNodes, ['n1'], `${node}: n1 is marked failed`);
    assert.match(g.intent.failedReasons.n1, /start of resource "disk" exited with code 1: disk not mounted/);
  }
  const g1 = (await c.status('n1')).groups[0];
  assert.equal(g1.state, 'stopped');
  assert.match(g1.lastError, /disk not mounted/);
  assert.match(g1.resources[0].lastError, /exited with code 1: disk not mounted/);
  assert.equal(g1.resources[0].lastOutput.trim(), 'checking /srv/data\ndisk not mounted');
  const failedStart = find(
    c.events('n1'),
    (e) => e.type === 'group' && /start of app failed/.test(e.message),
  );
  assert.equal(failedStart.output.trim(), 'checking /srv/data\ndisk not mounted', 'the whole output is kept');
  assert.ok(!has(c, 'up.n1'));
});

/** Deadman helper log lines of `node` (JSON on the agent's stderr) with this message and group. */
function deadmanLog(c: Cluster, node: string, msg: string, group: string): any | undefined {
  for (const line of c.logs(node).split('\n')) {
    if (!line.includes(msg)) continue;
    try {
      const rec = JSON.parse(line);
      if (rec.msg === msg && rec.group === group) return rec;
    } catch {}
  }
  return undefined;
}

test('a stop that hangs has its process tree killed, and a stop that cannot succeed leaves the lease to run out before the other node starts', async (t) => {
  const c = await groupsCluster(t, {
    nodes: ['n1', 'n2'],
    groups: {
      hang: {
        nodes: ['n1', 'n2'],
        resources: {
          h: {
            type: 'script',
            start: 'touch "hang.$HALO_NODE"',
            // A stop with a child that never ends: the whole tree must go at the timeout.
            stop: 'sleep 30 & echo $! >> "hang-pids.$HALO_NODE"; wait',
            timeout: { stop: '500ms' },
          },
        },
      },
      stuck: {
        nodes: ['n1', 'n2'],
        resources: {
          s: {
            type: 'script',
            start: 'date +%s%3N > "stuck-started.$HALO_NODE"',
            stop: 'date +%s%3N >> "stuck-stops.$HALO_NODE"; echo device is busy; exit 1',
          },
        },
      },
    },
  });
  await twoAgents(c, () => has(c, 'hang.n1') && has(c, 'stuck-started.n1'));
  await c.waitFor('both groups running on n1', () => has(c, 'hang.n1') && has(c, 'stuck-started.n1'));
  for (const g of ['hang', 'stuck']) {
    const res = await c.api('n1', 'POST', `/v1/groups/${g}/move`, { to: 'n2' });
    assert.equal(res.status, 202);
  }

  const n1 = await c.waitFor('both groups failed-stop on n1', async () => {
    const s = await c.status('n1');
    return s.groups.every((g: any) => g.state === 'failed-stop') ? s : false;
  });
  const hang = n1.groups.find((g: any) => g.name === 'hang');
  const stuck = n1.groups.find((g: any) => g.name === 'stuck');
  assert.match(hang.lastError, /timed out|did not finish within 500ms/);
  assert.match(stuck.lastError, /exited with code 1: device is busy/);

  await c.waitFor('both groups started on n2', () => has(c, 'hang.n2') && has(c, 'stuck-started.n2'));
  // Safety: n1 never released; n2 got the lease only after n1's deadman had fenced at its deadline.
  const released = c.events('n1').filter((e) => e.type === 'lease' && /released/.test(e.message));
  assert.deepEqual(released, [], 'n1 did not release a lease after its failed stops');
  for (const g of ['hang', 'stuck']) {
    const fenced = await c.waitFor(`n1's deadman fenced ${g} at its deadline`, () =>
      deadmanLog(c, 'n1', 'deadline reached, fencing group', g),
    );
    const acquired = await c.waitFor(`n2 acquired ${g}`, () =>
      find(c.events('n2'), (e) => e.type === 'lease' && e.group === g && /acquired/.test(e.message)),
    );
    // The helper logs when its timer ran, `lateMs` after the deadline it was armed with.
    const deadline = Date.parse(fenced.time) - (fenced.lateMs ?? 0);
    assert.ok(
      Date.parse(acquired.ts) > deadline,
      `${g}: n2 acquired at ${acquired.ts}, after n1's deadline at ${new Date(deadline).toISOString()}`,
    );
  }
  // The engine's stop and then the deadman's, at the deadline (which the log above orders).
  const stops = await c.waitFor('two stop attempts on n1', () => {
    const lines = read(c, 'stuck-stops.n1').split('\n').map(Number);
    return lines.length >= 2 ? lines : false;
  });
  assert.ok(Number(read(c, 'stuck-started.n2')) > stops[0]!, 'n2 started after the failed stop');

  // Every sleep a hung stop started (the engine's and the deadman's) is gone.
  await c.waitFor("n1's deadman done with hang", () => deadmanLog(c, 'n1', 'deadline fence done', 'hang'));
  const pids = read(c, 'hang-pids.n1').split('\n').map(Number);
  assert.ok(pids.length >= 1);
  await c.waitFor('no process of the hung stops left', () => pids.every((p) => !alive(p)), 5000);

  const after = await c.status('n1');
  assert.ok(
    after.groups.every((g: any) => g.state === 'failed-stop'),
    'n1 keeps showing failed-stop',
  );
  assert.ok(after.groups.every((g: any) => g.owner === 'n2'));
});
