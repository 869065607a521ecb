import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeDnsPort as freePort } from '../support/bind.js';
import { startCluster } from '../support/cluster.js';
import { accepts, startHaproxy } from '../support/haproxy.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * A load-balancer-probe failover on loopback (the pattern of a WSFC cluster on Azure behind an
 * internal load balancer probe). HAProxy plays the load balancer: it health-checks each node's lb-probe port
 * every 100 ms and sends traffic only to a node whose probe answers. Both agents share
 * 127.0.0.1, so each node has its own probe port (probePortByNode) and its own app port.
 * The app is a tiny HTTP responder answering its node's name.
 */

const LIMIT = { timeout: 120_000 };

const RESPONDER = `import { createServer } from 'node:http';
const ports = JSON.parse(process.argv[2]);
const node = process.env.HALO_NODE;
createServer((req, res) => res.end(node)).listen(ports[node], '127.0.0.1');
`;

/**
 * The responders this test's agents started. The harness kills agents and their deadman
 * helpers at the end, but a resource's process does not inherit the harness's tag, so a
 * responder whose helper died first would outlive the test. The script path is unique to
 * this test, so matching it finds only ours.
 */
function killResponders(script: string): void {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(script))
        process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

interface Sample {
  at: number;
  answer: string;
}

/** One request through the load balancer: the node's name, or 'error: …'. */
async function ask(port: number): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      headers: { connection: 'close' },
      signal: AbortSignal.timeout(1000),
    });
    const body = await res.text();
    return res.status === 200 ? body : `error: HTTP ${res.status}`;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

test(
  'through the load balancer, only the owner is served; after kill -9 of the owner the standby is',
  LIMIT,
  async (t) => {
    const dir = tempDir(t, 'halo-lb-');
    const responder = join(dir, 'responder.mjs');
    writeFileSync(responder, RESPONDER);
    const app = { n1: await freePort(), n2: await freePort() };
    const probe = { n1: await freePort(), n2: await freePort() };
    const c = await startCluster(t, {
      nodes: ['n1', 'n2'],
      groups: {
        web: {
          nodes: ['n1', 'n2'],
          resources: {
            app: {
              type: 'process',
              command: [process.execPath, responder, JSON.stringify(app)],
              startGrace: '300ms',
            },
            probe: {
              type: 'lb-probe',
              after: ['app'],
              probePort: probe.n1,
              probePortByNode: probe,
              host: '127.0.0.1',
            },
          },
        },
      },
    });
    // After the harness's own cleanup (t.after hooks run in the order they were added).
    t.after(() => killResponders(responder));
    const lb = await startHaproxy(t, {
      backends: [
        { name: 'n1', port: app.n1, probePort: probe.n1 },
        { name: 'n2', port: app.n2, probePort: probe.n2 },
      ],
    });
    await c.startAgent('n1');
    await c.startAgent('n2');
    await c.waitFor('served by n1 through the load balancer', async () => (await ask(lb.port)) === 'n1');
    await c.waitFor('n2 out of quarantine', async () => !(await c.status('n2')).quarantined);
    assert.equal(await accepts(probe.n2), false, 'the standby’s probe port is closed');
    assert.equal(await accepts(probe.n1), true, 'the owner’s probe port is open');

    // A client asking all the time, through the failover.
    const samples: Sample[] = [];
    let running = true;
    const client = (async () => {
      while (running) {
        samples.push({ at: Date.now(), answer: await ask(lb.port) });
        await sleep(10);
      }
    })();
    t.after(async () => {
      running = false;
      await client;
    });
    await sleep(500);
    const killedAt = Date.now();
    await c.kill('n1', 'SIGKILL');
    await c.waitFor('served by n2 through the load balancer', () => samples.at(-1)?.answer === 'n2', 30_000);
    await sleep(500);
    running = false;
    await client;

    const before = samples.filter((s) => s.at < killedAt);
    assert.ok(before.length > 5);
    assert.ok(
      before.every((s) => s.answer === 'n1'),
      `before the kill only the owner answers: ${[...new Set(before.map((s) => s.answer))]}`,
    );
    const after = samples.filter((s) => s.at >= killedAt);
    const firstFailed = after.find((s) => s.answer.startsWith('error'));
    const firstN2 = after.find((s) => s.answer === 'n2');
    assert.ok(firstN2, 'the new owner served the client');
    assert.ok(
      after.filter((s) => s.at > firstN2.at).every((s) => s.answer === 'n2'),
      'once the new owner serves, it keeps serving (the dead node’s probe stays closed)',
    );
    const downtime = firstFailed ? firstN2.at - firstFailed.at : 0;
    const failures = after.filter((s) => s.answer.startsWith('error')).length;
    t.diagnostic(
      `kill -9 of the owner's agent → first failed request → first answer from n2: ${downtime} ms (${failures} failed requests, ${samples.length} in all)`,
    );
    console.log(`haproxy lb-probe failover downtime: ${downtime} ms, ${failures} failed requests`);
    assert.equal((await c.status('n2')).groups[0].owner, 'n2');
    assert.equal(await accepts(probe.n1), false, 'the dead owner’s probe port is closed');
  },
);
