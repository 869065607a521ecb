import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HealthGate } from '../../../src/engine/resources/lb-probe/health-gate.js';
import { type LbProbeInstance, lbProbeResource } from '../../../src/engine/resources/lb-probe/index.js';
import { lbProbeParams } from '../../../src/engine/resources/lb-probe/params.js';
import { resourceTypes } from '../../../src/engine/resources/registry.js';
import { freePort } from '../../support/ports-and-processes.js';
import { makeContext } from './context.js';

function create(input: Record<string, unknown>, t: { after: (fn: () => Promise<void>) => void }) {
  const probe = lbProbeResource.create('probe', lbProbeParams.parse({ host: '127.0.0.1', ...input }));
  t.after(() => probe.stop(makeContext()));
  return probe as LbProbeInstance & Required<Pick<LbProbeInstance, 'onMonitorResult' | 'applyLive'>>;
}

/** 'accepted' when the handshake completes and the server then closes; 'refused' otherwise. */
function tcpProbe(port: number): Promise<'accepted' | 'refused'> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let connected = false;
    socket.on('connect', () => {
      connected = true;
    });
    socket.on('error', () => resolve('refused'));
    socket.on('close', () => resolve(connected ? 'accepted' : 'refused'));
    socket.resume();
    socket.setTimeout(10_000, () => socket.destroy());
  });
}

async function httpProbe(port: number): Promise<{ status: number; body: string } | 'refused'> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return 'refused';
  }
}

async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(20);
  }
  assert.fail(`timed out waiting until ${what}`);
}

describe('lb-probe resource', () => {
  it('is listed in the resource registry with probePort as a restart parameter', () => {
    assert.equal(resourceTypes.get('lb-probe'), lbProbeResource);
    assert.equal(lbProbeResource.paramModes.probePort, undefined);
    assert.equal(lbProbeResource.paramModes.healthGate, 'live');
  });

  it('accepts and closes probe connections while started, and refuses them once stopped', async (t) => {
    const port = await freePort();
    const probe = create({ probePort: port }, t);
    const ctx = makeContext();
    assert.equal((await probe.check(ctx)).state, 'stopped');
    await probe.start(ctx);
    await probe.start(ctx);
    assert.equal(await tcpProbe(port), 'accepted');
    const running = await probe.check(ctx);
    assert.equal(running.state, 'running');
    assert.match(running.reason ?? '', new RegExp(`probe port ${port} open`));
    assert.deepEqual(probe.fenceActions(), []);
    await probe.stop(ctx);
    assert.equal(await tcpProbe(port), 'refused');
    assert.equal((await probe.check(ctx)).state, 'stopped');
    await probe.stop(ctx);
  });

  it('keeps a tcp probe port closed until every gating monitor passes, and closes it when one fails', async (t) => {
    const port = await freePort();
    const probe = create({ probePort: port, healthGate: ['web', 'db'] }, t);
    const ctx = makeContext();
    await probe.start(ctx);
    assert.equal(await tcpProbe(port), 'refused', 'nothing is known right after start');
    const held = await probe.check(ctx);
    assert.equal(held.state, 'running');
    assert.match(held.reason ?? '', /held closed: waiting for the first result of monitor web/);

    probe.onMonitorResult('web', true, 'ok');
    probe.onMonitorResult('other', false, 'not a gating monitor');
    await sleep(50);
    assert.equal(await tcpProbe(port), 'refused', 'db has not passed yet');
    probe.onMonitorResult('db', true, 'ok');
    await eventually('the port opens', async () => (await tcpProbe(port)) === 'accepted');
    assert.equal((await probe.check(ctx)).state, 'running');

    probe.onMonitorResult('db', false, 'connection refused');
    await eventually('the port closes', async () => (await tcpProbe(port)) === 'refused');
    assert.match((await probe.check(ctx)).reason ?? '', /monitor db failing: connection refused/);
    probe.onMonitorResult('db', true, 'ok');
    await eventually('the port opens again', async () => (await tcpProbe(port)) === 'accepted');
  });

  it('forgets gate results across a restart, so a new activation waits for fresh passes', async (t) => {
    const port = await freePort();
    const probe = create({ probePort: port, healthGate: ['web'] }, t);
    const ctx = makeContext();
    await probe.start(ctx);
    probe.onMonitorResult('web', true, 'ok');
    await eventually('the port opens', async () => (await tcpProbe(port)) === 'accepted');
    await probe.stop(ctx);
    await probe.start(ctx);
    assert.equal(await tcpProbe(port), 'refused');
  });

  it('answers HTTP probes with 200 while healthy and 503 while the gate is red', async (t) => {
    const port = await freePort();
    const probe = create({ probePort: port, mode: 'http', healthGate: ['web'] }, t);
    const ctx = makeContext();
    await probe.start(ctx);
    assert.deepEqual(await httpProbe(port), { status: 503, body: 'unhealthy\n' });
    assert.match((await probe.check(ctx)).reason ?? '', /answering 503/);
    probe.onMonitorResult('web', true, 'ok');
    assert.deepEqual(await httpProbe(port), { status: 200, body: 'active\n' });
    probe.onMonitorResult('web', false, 'HTTP 500');
    assert.deepEqual(await httpProbe(port), { status: 503, body: 'unhealthy\n' });
    await probe.stop(ctx);
    assert.equal(await httpProbe(port), 'refused');
  });

  it('serves 500 concurrent tcp probes and 500 concurrent http probes', async (t) => {
    const tcpPort = await freePort();
    const tcp = create({ probePort: tcpPort }, t);
    await tcp.start(makeContext());
    const tcpResults = await Promise.all(Array.from({ length: 500 }, () => tcpProbe(tcpPort)));
    assert.equal(tcpResults.filter((r) => r === 'accepted').length, 500);

    const httpPort = await freePort();
    const http = create({ probePort: httpPort, mode: 'http' }, t);
    await http.start(makeContext());
    const httpResults = await Promise.all(Array.from({ length: 500 }, () => httpProbe(httpPort)));
    assert.equal(httpResults.filter((r) => r !== 'refused' && r.status === 200).length, 500);
  });

  it('drops open probe connections on stop', async (t) => {
    const port = await freePort();
    const probe = create({ probePort: port, mode: 'http' }, t);
    await probe.start(makeContext());
    // A client that connects and never completes a request holds a socket open. It trickles
    // bytes so the listener's idle timeout never fires: only stop can close it.
    const open = connect({ host: '127.0.0.1', port });
    open.on('error', () => undefined); // a reset ends the connection too; 'close' follows
    await once(open, 'connect');
    open.write('GET / HTTP/1.1\r\nX-Trickle: ');
    const trickle = setInterval(() => open.write('a'), 200);
    t.after(() => {
      clearInterval(trickle);
      open.destroy();
    });
    // Bounded: a connection left open must fail this test, not hang it (stop would wait for it).
    const closed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 20_000);
      open.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    await sleep(500);
    assert.equal(open.destroyed, false, 'the half-sent request keeps the connection open');
    const stopped = probe.stop(makeContext());
    assert.equal(await closed, true, 'stop closed the open probe connection');
    await stopped;
    assert.equal(await httpProbe(port), 'refused', 'and no longer listens');
  });

  it('fails its start with a clear message when the probe port is taken', async (t) => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    t.after(() => new Promise((r) => blocker.close(r)));
    const { port } = blocker.address() as { port: number };
    const probe = create({ probePort: port, healthGate: ['web'] }, t);
    await assert.rejects(probe.start(makeContext()), (err: { code: string; message: string }) => {
      assert.equal(err.code, 'HALO_E_PROBE_PORT_UNAVAILABLE');
      assert.match(err.message, new RegExp(`cannot listen on probe port 127.0.0.1:${port}: another program`));
      return true;
    });
    assert.equal((await probe.check(makeContext())).state, 'stopped');
  });

  it('uses the per-node port from probePortByNode when this node has one', async (t) => {
    const [shared, own] = [await freePort(), await freePort()];
    const probe = create({ probePort: shared, probePortByNode: { n2: own } }, t);
    assert.equal(probe.port('n1'), shared);
    assert.equal(probe.port('n2'), own);
    await probe.start(makeContext({ node: 'n2' }));
    assert.equal(await tcpProbe(own), 'accepted');
    assert.equal(await tcpProbe(shared), 'refused');
  });

  it('refuses to start when the frontend IP is not on this node', async (t) => {
    const probe = create({ probePort: await freePort(), ip: '192.0.2.77' }, t);
    await assert.rejects(probe.start(makeContext()), /frontend IP 192\.0\.2\.77 is not on any interface/);
  });

  it('applies a changed health gate live', async (t) => {
    const port = await freePort();
    const probe = create({ probePort: port, healthGate: ['web', 'slow'] }, t);
    await probe.start(makeContext());
    probe.onMonitorResult('web', true, 'ok');
    assert.equal(await tcpProbe(port), 'refused');
    await probe.applyLive({ healthGate: ['web'] }, makeContext());
    assert.equal(await tcpProbe(port), 'accepted');
  });

  it('validates the frontend IP and duplicate gate monitors', () => {
    const params = lbProbeParams.parse({ probePort: 59999, ip: 'not-an-ip', healthGate: ['a', 'a'] });
    assert.deepEqual(lbProbeResource.validate?.(params), [
      ['ip', 'expected an IPv4 or IPv6 address'],
      ['healthGate[1]', 'monitor a is listed twice'],
    ]);
  });
});

describe('lb-probe health gate', () => {
  it('is green without gating monitors and red until each one has passed', () => {
    assert.deepEqual(new HealthGate([]).state(), { ok: true, reason: 'no health gate' });
    const gate = new HealthGate(['a', 'b']);
    assert.equal(gate.state().ok, false);
    assert.equal(gate.record('a', true, ''), false);
    assert.equal(gate.record('b', true, ''), true, 'the colour changed');
    assert.equal(gate.state().ok, true);
    assert.equal(gate.record('x', false, 'not gating'), false);
    assert.equal(gate.record('a', false, 'boom'), true);
    assert.deepEqual(gate.state(), { ok: false, reason: 'monitor a failing: boom' });
    gate.reset();
    assert.match(gate.state().reason, /waiting for the first result of monitor a/);
  });
});
