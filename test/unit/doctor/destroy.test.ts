import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import { registerDestroy, unsafeStateDir } from '../../../src/agent/destroy.js';
import type { HaloConfig } from '../../../src/config/model.js';
import {
  type NodeApi,
  type NodeProbe,
  renderPlan,
  runTeardown,
  stopOrder,
} from '../../../src/doctor/teardown.js';
import { parseConfig } from '../../../src/engine/config-catalog.js';
import type { EngineStatus } from '../../../src/engine/engine-status.js';
import { HaloError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import { tempDir } from '../../support/temp-dir.js';

function config(dir: string): HaloConfig {
  return parseConfig(
    `cluster: { name: c, secretFile: cluster.key }
nodes:
  a: { address: 127.0.0.1, apiPort: 7400, peerPort: 7401 }
  b: { address: 127.0.0.1, apiPort: 7410, peerPort: 7411 }
witness: { address: 127.0.0.1, port: 7402 }
groups:
  first: { nodes: [a, b], resources: { x: { type: script, start: 'true', stop: 'true' } } }
  second:
    nodes: [a, b]
    resources:
      p: { type: script, start: 'true', stop: 'true' }
      q: { type: script, after: [p], start: 'true', stop: 'true' }
`,
    join(dir, 'halo.yaml'),
    { checkFiles: false, baseDir: dir },
  );
}

const engine = (phases: Record<string, string>) => () =>
  ({
    node: 'a',
    groups: Object.entries(phases).map(([name, phase]) => ({ name, phase })),
  }) as unknown as EngineStatus;

test('groups stop in reverse config order, each with its resources in reverse order', (t) => {
  assert.deepEqual(stopOrder(config(tempDir(t))), [
    { group: 'second', resources: ['q', 'p'] },
    { group: 'first', resources: ['x'] },
  ]);
});

test('a state dir that is a system directory or too shallow is refused', () => {
  assert.match(unsafeStateDir('/') ?? '', /refusing/);
  assert.match(unsafeStateDir('/var/lib') ?? '', /refusing/);
  assert.match(unsafeStateDir('/tmp') ?? '', /refusing/);
  assert.equal(unsafeStateDir('/var/lib/halo/n1'), undefined);
});

test('the agent refuses to destroy itself while a group is active on it', async (t) => {
  const dir = tempDir(t);
  const app = Fastify();
  app.setErrorHandler((err, _req, reply) =>
    reply.code((err as HaloError).httpStatus ?? 500).send({ error: (err as HaloError).toJSON?.() }),
  );
  let shut = false;
  registerDestroy(app, {
    node: 'a',
    stateDir: join(dir, 'state-a'),
    config: config(dir),
    engine: engine({ first: 'running', second: 'stopped' }),
    shutdown: async () => {
      shut = true;
    },
    log: silentLogger,
    exit: () => assert.fail('must not exit'),
  });
  t.after(() => app.close());
  const res = await app.inject({ method: 'POST', url: '/v1/agent/destroy', payload: {} });
  assert.equal(res.statusCode, 409);
  assert.match(res.json().error.message, /groups still active on a: first/);
  assert.equal(shut, false);
});

test('with every group stopped the agent answers, stops, deletes its state dir and exits', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state-a');
  mkdirSync(stateDir);
  writeFileSync(join(stateDir, 'events.jsonl'), '');
  const app = Fastify();
  const calls: string[] = [];
  const exited = new Promise<number>((resolve) =>
    registerDestroy(app, {
      node: 'a',
      stateDir,
      config: config(dir),
      engine: engine({ first: 'stopped', second: 'stopped' }),
      shutdown: async () => {
        calls.push('shutdown');
      },
      log: silentLogger,
      exit: (code) => resolve(code),
    }),
  );
  t.after(() => app.close());
  const plan = await app.inject({ method: 'GET', url: '/v1/agent/destroy' });
  assert.deepEqual(plan.json().stateEntries, ['events.jsonl']);
  const res = await app.inject({ method: 'POST', url: '/v1/agent/destroy', payload: { purge: false } });
  assert.equal(res.statusCode, 202);
  assert.equal(await exited, 0);
  assert.deepEqual(calls, ['shutdown']);
  assert.equal(existsSync(stateDir), false);
});

function fakeApi(url: string, answers: Record<string, unknown>, log: string[]): NodeApi {
  return {
    url,
    async request<T>(method: string, path: string): Promise<T> {
      log.push(`${url} ${method} ${path}`);
      const a = answers[`${method} ${path.split('?')[0]}`];
      if (a instanceof Error) throw a;
      return a as T;
    },
    async stream() {},
  };
}

test('the plan names the unreachable node and what --force risks', (t) => {
  const cfg = config(tempDir(t));
  const log: string[] = [];
  const probes: NodeProbe[] = [
    {
      name: 'a',
      api: fakeApi('http://a', {}, log),
      reachable: true,
      status: { node: 'a', groups: [{ name: 'second', owner: 'a', state: 'running' }] },
      plan: {
        node: 'a',
        stateDir: '/var/lib/halo/a',
        stateEntries: ['events.jsonl'],
        configFiles: [],
        activeGroups: [],
      },
    },
    { name: 'b', api: fakeApi('http://b', {}, log), reachable: false, error: 'connection refused' },
  ];
  const text = renderPlan(cfg, probes, { yes: false, purge: false, force: false });
  assert.match(text, /b +http:\/\/b +UNREACHABLE: connection refused/);
  assert.match(text, /1\. stop group second \(running on a\): resources q, then p/);
  assert.match(text, /a: \/var\/lib\/halo\/a \(events\.jsonl\)/);
  assert.match(text, /b: not reachable/);
  assert.match(text, /The risk: an unreachable node keeps its agent/);
  assert.deepEqual(log, [], 'rendering the plan calls nothing');
});

test('a group that never stops ends the teardown before any state is deleted', async (t) => {
  const cfg = config(tempDir(t));
  const log: string[] = [];
  const api = fakeApi(
    'http://a',
    {
      'POST /v1/groups/second/stop': { ok: true },
      'GET /v1/status': { node: 'a', groups: [{ name: 'second', owner: 'a', state: 'stopping' }] },
    },
    log,
  );
  const probes: NodeProbe[] = [{ name: 'a', api, reachable: true }];
  await assert.rejects(
    runTeardown(
      cfg,
      probes,
      { yes: true, purge: false, force: false, stopTimeoutMs: 500 },
      { out: () => {} },
    ),
    (err: unknown) =>
      err instanceof HaloError && err.code === 'HALO_E_TIMEOUT' && /nothing was deleted/.test(err.message),
  );
  assert.ok(!log.some((l) => l.includes('/v1/agent/destroy')), 'no destroy request was sent');
});
