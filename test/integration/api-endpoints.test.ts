import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { peerToken } from '../../src/api/auth.js';
import { startCluster } from '../support/cluster.js';
import { tempDir, writePrivate } from '../support/temp-dir.js';
import { openApiValidator, parsePrometheus, readSse, settleOnN1 } from './api-helpers.js';

/**
 * Every REST endpoint against two real agents and a witness on loopback (one cluster for the
 * whole file; the subtests run in order and later ones build on earlier state). Every JSON
 * answer is validated against the OpenAPI document the agent itself serves.
 */

const READ_ONLY = 'read-only-token-0123456789abcdef';

test('the REST API', async (t) => {
  const secrets = tempDir(t, 'halo-api-secrets-');
  const readOnlyFile = writePrivate(join(secrets, 'ro.token'), `${READ_ONLY}\n`);
  const c = await startCluster(t, {
    nodes: ['n1', 'n2'],
    api: { readOnlyTokenFile: readOnlyFile },
    groups: {
      web: {
        nodes: ['n1', 'n2'],
        resources: {
          marker: {
            type: 'script',
            start: 'echo "$HALO_TERM" > "marker.$HALO_NODE"',
            stop: 'rm -f "marker.$HALO_NODE"',
            check: 'test -f "marker.$HALO_NODE" || exit 7',
          },
        },
        monitors: { alive: { type: 'script', target: 'marker', command: 'true', interval: '300ms' } },
      },
      solo: { nodes: ['n1'], resources: { noop: { type: 'script', start: 'true', stop: 'true' } } },
    },
  });
  await c.startAgent('n1');
  await c.startAgent('n2');
  await settleOnN1(c);

  const base = (node: string) => `http://127.0.0.1:${c.ports[node]!.api}`;
  const { doc, validate } = await openApiValidator(base('n1'));
  const call = async (
    node: string,
    method: string,
    path: string,
    opts: { token?: string | null; body?: unknown; raw?: string } = {},
  ) => {
    const token = opts.token === undefined ? c.token(node) : opts.token;
    const hasBody = opts.body !== undefined || opts.raw !== undefined;
    const res = await fetch(base(node) + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
      },
      ...(hasBody ? { body: opts.raw ?? JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    let body: any = text;
    if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
    return { status: res.status, body, type: res.headers.get('content-type') ?? '' };
  };
  /** Asserts an error answer: status, code, and the documented error shape. */
  const expectError = async (
    p: Promise<{ status: number; body: any }>,
    status: number,
    code: string,
    template: [string, string],
  ) => {
    const r = await p;
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error.code, code);
    assert.equal(typeof r.body.error.message, 'string');
    if (doc.paths[template[1]]?.[template[0].toLowerCase()]?.responses[String(status)])
      validate(template[1], template[0], status, r.body);
    else validate('/v1/groups/{group}/move', 'post', 400, r.body); // same Error schema
    return r.body.error;
  };

  await t.test('GET /openapi.json is public and describes every endpoint', async () => {
    const r = await call('n1', 'GET', '/openapi.json', { token: null });
    assert.equal(r.status, 200);
    assert.equal(r.body.openapi, '3.1.0');
    for (const p of [
      '/v1/status',
      '/v1/events',
      '/v1/timelines',
      '/v1/groups/{group}/move',
      '/v1/groups/{group}/start',
      '/v1/groups/{group}/stop',
      '/v1/groups/{group}/cleanup',
      '/v1/groups/{group}/maintenance',
      '/v1/cluster/maintenance',
      '/v1/groups/{group}/resources/{resource}/params',
      '/v1/monitors/{monitor}/suspend',
      '/v1/monitors/{monitor}/resume',
      '/metrics',
    ])
      assert.ok(r.body.paths[p], `documents ${p}`);
  });

  await t.test('GET /v1/status on both nodes matches the schema and agrees on the owner', async () => {
    for (const node of ['n1', 'n2']) {
      const r = await call(node, 'GET', '/v1/status');
      assert.equal(r.status, 200);
      validate('/v1/status', 'get', 200, r.body);
      assert.equal(r.body.node, node);
      assert.equal(r.body.quorum, true);
      const web = r.body.groups.find((g: any) => g.name === 'web');
      assert.equal(web.owner, 'n1');
    }
  });

  await t.test('requests without a token or with a wrong one get 401', async () => {
    for (const [method, path, template] of [
      ['GET', '/v1/status', '/v1/status'],
      ['GET', '/metrics', '/metrics'],
      ['GET', '/v1/events', '/v1/events'],
      ['POST', '/v1/groups/web/move', '/v1/groups/{group}/move'],
      ['GET', '/v1/groups/web/resources/marker/params', '/v1/groups/{group}/resources/{resource}/params'],
    ] as const) {
      for (const token of [null, 'wrong-token-wrong-token-wrong']) {
        const e = await expectError(
          call('n1', method, path, { token, ...(method === 'POST' ? { body: {} } : {}) }),
          401,
          'HALO_E_UNAUTHORIZED',
          [method, template],
        );
        assert.match(e.message, /token/);
      }
    }
    // A token of another node is not valid here either: each agent has its own.
    await expectError(call('n1', 'GET', '/v1/status', { token: c.token('n2') }), 401, 'HALO_E_UNAUTHORIZED', [
      'GET',
      '/v1/status',
    ]);
  });

  await t.test('the read-only token reads but every write gets 403', async () => {
    const ok = await call('n1', 'GET', '/v1/status', { token: READ_ONLY });
    assert.equal(ok.status, 200);
    assert.equal((await call('n1', 'GET', '/metrics', { token: READ_ONLY })).status, 200);
    assert.equal(
      (await call('n1', 'GET', '/v1/groups/web/resources/marker/params', { token: READ_ONLY })).status,
      200,
    );
    const writes: Array<[string, string, string, unknown]> = [
      ['POST', '/v1/groups/web/move', '/v1/groups/{group}/move', { to: 'n2' }],
      ['POST', '/v1/groups/web/stop', '/v1/groups/{group}/stop', {}],
      ['POST', '/v1/groups/web/start', '/v1/groups/{group}/start', {}],
      ['POST', '/v1/groups/web/cleanup', '/v1/groups/{group}/cleanup', {}],
      ['POST', '/v1/groups/web/maintenance', '/v1/groups/{group}/maintenance', { on: true }],
      ['POST', '/v1/cluster/maintenance', '/v1/cluster/maintenance', { on: true }],
      [
        'PATCH',
        '/v1/groups/web/resources/marker/params',
        '/v1/groups/{group}/resources/{resource}/params',
        { check: 'true' },
      ],
      ['POST', '/v1/monitors/web%2Falive/suspend', '/v1/monitors/{monitor}/suspend', undefined],
    ];
    for (const [method, path, template, body] of writes)
      await expectError(
        call('n1', method, path, { token: READ_ONLY, ...(body !== undefined ? { body } : {}) }),
        403,
        'HALO_E_FORBIDDEN',
        [method, template],
      );
    assert.equal((await c.status('n1')).groups.find((g: any) => g.name === 'web').owner, 'n1');
  });

  await t.test('the peer token derived from the cluster key reads timelines only', async () => {
    const key = Buffer.from(readFileSync(join(c.dir, 'cluster.key'), 'utf8').trim());
    const token = peerToken(key);
    const r = await call('n1', 'GET', '/v1/timelines', { token });
    assert.equal(r.status, 200);
    validate('/v1/timelines', 'get', 200, r.body);
    // And its own phase of each group: what another node's status shows as n1's column.
    assert.deepEqual(
      r.body.groups.map((g: any) => [g.name, g.state]),
      [
        ['web', 'running'],
        ['solo', 'running'],
      ],
    );
    await expectError(call('n1', 'GET', '/v1/status', { token }), 403, 'HALO_E_FORBIDDEN', [
      'GET',
      '/v1/status',
    ]);
  });

  await t.test('unknown routes, groups, resources and monitors get 404', async () => {
    await expectError(call('n1', 'GET', '/v1/nothing-here'), 404, 'HALO_E_NOT_FOUND', ['GET', '/none']);
    for (const path of ['/v1/groups/nosuch/move', '/v1/groups/nosuch/stop', '/v1/groups/nosuch/start'])
      await expectError(call('n1', 'POST', path, { body: {} }), 404, 'HALO_E_NOT_FOUND', [
        'POST',
        path.replace('nosuch', '{group}'),
      ]);
    const params = '/v1/groups/{group}/resources/{resource}/params';
    await expectError(
      call('n1', 'GET', '/v1/groups/nosuch/resources/marker/params'),
      404,
      'HALO_E_NOT_FOUND',
      ['GET', params],
    );
    await expectError(call('n1', 'GET', '/v1/groups/web/resources/nosuch/params'), 404, 'HALO_E_NOT_FOUND', [
      'GET',
      params,
    ]);
    await expectError(
      call('n1', 'PATCH', '/v1/groups/web/resources/nosuch/params', { body: { check: 'true' } }),
      404,
      'HALO_E_NOT_FOUND',
      ['PATCH', params],
    );
    await expectError(call('n1', 'POST', '/v1/monitors/nosuch/suspend'), 404, 'HALO_E_NOT_FOUND', [
      'POST',
      '/v1/monitors/{monitor}/suspend',
    ]);
  });

  await t.test('bad bodies and unknown keys get 400', async () => {
    const move = ['POST', '/v1/groups/{group}/move'] as [string, string];
    await expectError(
      call('n1', 'POST', '/v1/groups/web/move', { body: { too: 'n2' } }),
      400,
      'HALO_E_BAD_REQUEST',
      move,
    );
    await expectError(
      call('n1', 'POST', '/v1/groups/web/move', { body: { to: 5 } }),
      400,
      'HALO_E_BAD_REQUEST',
      move,
    );
    await expectError(
      call('n1', 'POST', '/v1/groups/web/move', { raw: '{"to":' }),
      400,
      'HALO_E_BAD_REQUEST',
      move,
    );
    await expectError(
      call('n1', 'POST', '/v1/groups/web/stop', { body: { now: true } }),
      400,
      'HALO_E_BAD_REQUEST',
      ['POST', '/v1/groups/{group}/stop'],
    );
    const patch = ['PATCH', '/v1/groups/{group}/resources/{resource}/params'] as [string, string];
    const unknown = await expectError(
      call('n1', 'PATCH', '/v1/groups/web/resources/marker/params', { body: { nosuchKey: 1 } }),
      400,
      'HALO_E_BAD_REQUEST',
      patch,
    );
    assert.match(unknown.message, /nosuchKey/);
    await expectError(
      call('n1', 'PATCH', '/v1/groups/web/resources/marker/params', { body: {} }),
      400,
      'HALO_E_BAD_REQUEST',
      patch,
    );
    await expectError(
      call('n1', 'PATCH', '/v1/groups/web/resources/marker/params', { body: { successCodes: 'zero' } }),
      400,
      'HALO_E_BAD_REQUEST',
      patch,
    );
  });

  await t.test('a body over the limit gets 413 on every route that takes one, as documented', async () => {
    const MiB = 1024 * 1024;
    for (const [method, path, template, size] of [
      ['POST', '/v1/groups/web/move', '/v1/groups/{group}/move', 1],
      ['POST', '/v1/groups/web/start', '/v1/groups/{group}/start', 1],
      ['POST', '/v1/groups/web/stop', '/v1/groups/{group}/stop', 1],
      [
        'PATCH',
        '/v1/groups/web/resources/marker/params',
        '/v1/groups/{group}/resources/{resource}/params',
        1,
      ],
      ['POST', '/v1/monitors/web%2Falive/suspend', '/v1/monitors/{monitor}/suspend', 1],
      ['POST', '/v1/monitors/web%2Falive/resume', '/v1/monitors/{monitor}/resume', 1],
      ['POST', '/v1/agent/destroy', '/v1/agent/destroy', 1],
      // A pushed config may be 4 MiB of YAML, escaped into a JSON string: its limit is higher.
      ['PUT', '/v1/config', '/v1/config', 9],
    ] as const) {
      const r = await call('n1', method, path, { body: { pad: 'x'.repeat(size * MiB) } }).catch((err) => {
        throw new Error(`${method} ${path}: ${err.message} (${err.cause?.code ?? err.cause})`, {
          cause: err,
        });
      });
      assert.equal(r.status, 413, `${method} ${path}: ${JSON.stringify(r.body).slice(0, 300)}`);
      assert.equal(r.body.error.code, 'HALO_E_BODY_TOO_LARGE');
      assert.match(r.body.error.message, /accepts at most \d+ bytes/);
      // validate() fails when the document does not list 413 for this operation.
      validate(template, method, 413, r.body);
      const limit = Number(/at most (\d+) bytes/.exec(r.body.error.message)![1]);
      assert.match(
        doc.paths[template][method.toLowerCase()].responses['413'].description,
        new RegExp(`${limit}`),
      );
    }
    assert.equal((await c.status('n1')).groups.find((g: any) => g.name === 'web').owner, 'n1');
  });

  await t.test('a move the cluster cannot carry out gets 409', async () => {
    const move = ['POST', '/v1/groups/{group}/move'] as [string, string];
    const already = await expectError(
      call('n1', 'POST', '/v1/groups/web/move', { body: { to: 'n1' } }),
      409,
      'HALO_E_CONFLICT',
      move,
    );
    assert.match(already.message, /already runs on n1/);
    const notInGroup = await expectError(
      call('n1', 'POST', '/v1/groups/solo/move', { body: { to: 'n2' } }),
      409,
      'HALO_E_CONFLICT',
      move,
    );
    assert.deepEqual(notInGroup.details.nodes, ['n1']);
    await expectError(call('n1', 'POST', '/v1/groups/solo/move', { body: {} }), 409, 'HALO_E_CONFLICT', move);
    await expectError(
      call('n1', 'POST', '/v1/groups/web/start', { body: { on: 'ghost' } }),
      409,
      'HALO_E_CONFLICT',
      ['POST', '/v1/groups/{group}/start'],
    );
  });

  await t.test('GET and PATCH params: live changes apply now, restart changes stay pending', async () => {
    const path = '/v1/groups/web/resources/marker/params';
    const before = await call('n1', 'GET', path);
    assert.equal(before.status, 200);
    validate('/v1/groups/{group}/resources/{resource}/params', 'get', 200, before.body);
    assert.deepEqual(before.body.pending, {});
    const r = await call('n1', 'PATCH', path, {
      body: { check: 'test -f "marker.$HALO_NODE" || exit 7', env: { COLOR: 'blue' } },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    validate('/v1/groups/{group}/resources/{resource}/params', 'patch', 200, r.body);
    assert.deepEqual(r.body, { live: ['check'], pending: ['env'] });
    const after = await call('n1', 'GET', path);
    assert.deepEqual(after.body.pending, { env: { COLOR: 'blue' } });
    const web = (await c.status('n1')).groups.find((g: any) => g.name === 'web');
    assert.deepEqual(web.pending, { marker: { env: { COLOR: 'blue' } } });
  });

  await t.test('monitor suspend and resume answer 202 and show in status', async () => {
    const monitor = (s: any) => s.groups.find((g: any) => g.name === 'web').monitors[0];
    const r = await call('n1', 'POST', '/v1/monitors/web%2Falive/suspend');
    assert.equal(r.status, 202, JSON.stringify(r.body));
    validate('/v1/monitors/{monitor}/suspend', 'post', 202, r.body);
    await c.waitFor('suspended on n2 too', async () => monitor(await c.status('n2')).suspended);
    assert.equal(monitor(await c.status('n1')).state, 'suspended');
    const back = await call('n1', 'POST', '/v1/monitors/alive/resume');
    assert.equal(back.status, 202);
    validate('/v1/monitors/{monitor}/resume', 'post', 202, back.body);
    await c.waitFor('resumed', async () => !monitor(await c.status('n1')).suspended);
  });

  await t.test('GET /v1/events streams history, then new events as they happen', async () => {
    const sse = await readSse(`${base('n1')}/v1/events?history=5`, c.token('n1'));
    try {
      await sse.waitFor(() => true, 'history');
      const lastSeq = Math.max(...sse.events.map((e) => e.seq));
      assert.ok(sse.events.length <= 5);
      await call('n1', 'POST', '/v1/monitors/web%2Falive/suspend');
      const e = await sse.waitFor((x) => x.seq > lastSeq && x.type === 'intent', 'the suspend intent event');
      assert.match(e.message, /suspended/);
      for (const ev of sse.events) validate('/v1/events', 'get', 200, ev);
      await call('n1', 'POST', '/v1/monitors/web%2Falive/resume');
    } finally {
      sse.close();
    }
    // EventSource cannot send headers: ?token= works for this route only.
    const q = await readSse(`${base('n1')}/v1/events?history=1&token=${c.token('n1')}`, '');
    q.close();
    const other = await call('n1', 'GET', `/v1/status?token=${c.token('n1')}`, { token: null });
    assert.equal(other.status, 401);
  });

  await t.test(
    'POST move hands the group over, and status shows the merged timeline of both nodes',
    async () => {
      const r = await call('n1', 'POST', '/v1/groups/web/move', { body: { to: 'n2' } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      validate('/v1/groups/{group}/move', 'post', 202, r.body);
      await c.waitFor('web running on n2', () => existsSync(join(c.dir, 'marker.n2')));
      const merged: Record<string, any> = {};
      for (const node of ['n1', 'n2']) {
        const failover = await c.waitFor(`complete timeline on ${node}`, async () => {
          const s = await c.status(node);
          const f = s.groups.find((g: any) => g.name === 'web').lastFailover;
          return f?.complete && f.from === 'n1' && f.to === 'n2' ? { s, f } : false;
        });
        validate('/v1/status', 'get', 200, failover.s);
        const f = failover.f;
        merged[node] = f;
        // One failover across both nodes, in causal order: n1 decides and stops, then n2 is
        // granted the lease, starts and is healthy.
        const phases = f.steps.map((s: any) => `${s.phase}@${s.node}`);
        const order = ['decided@n1', 'stopped@n1', 'lease-granted@n2', 'started@n2', 'healthy@n2'];
        const at = order.map((p) => phases.indexOf(p));
        assert.ok(
          at.every((i, k) => i >= 0 && (k === 0 || i > (at[k - 1] ?? -1))),
          `${node}: ${order.join(' < ')} in ${phases.join(', ')}`,
        );
        assert.equal(phases.at(-1), 'healthy@n2', `${node}: the failover ends healthy on n2`);
        let since = 0;
        for (const s of f.steps) {
          assert.ok(s.durationMs >= 0, `${node}: ${s.phase} took ${s.durationMs}ms`);
          since += s.durationMs;
          assert.equal(s.sinceStartMs, since);
        }
        assert.equal(f.totalMs, since);
      }
      // Each agent joins its own half with the other's: both show the same failover.
      assert.deepEqual(merged['n2'], merged['n1']);
    },
  );

  await t.test('POST stop stops the group everywhere; POST start with on brings it up there', async () => {
    const r = await call('n2', 'POST', '/v1/groups/web/stop', { body: {} });
    assert.equal(r.status, 202);
    validate('/v1/groups/{group}/stop', 'post', 202, r.body);
    // A stop without a body is accepted too (the body is optional).
    assert.equal((await call('n2', 'POST', '/v1/groups/web/stop')).status, 202);
    await c.waitFor('web stopped', () => !existsSync(join(c.dir, 'marker.n2')));
    for (const node of ['n1', 'n2']) {
      const g = (await c.status(node)).groups.find((x: any) => x.name === 'web');
      assert.equal(g.intent.state, 'stopped');
      assert.equal(g.state, 'stopped');
    }
    const s = await call('n2', 'POST', '/v1/groups/web/start', { body: { on: 'n1' } });
    assert.equal(s.status, 202);
    validate('/v1/groups/{group}/start', 'post', 202, s.body);
    await c.waitFor('web running on n1 again', () => existsSync(join(c.dir, 'marker.n1')));
  });

  await t.test(
    'GET /metrics parses as Prometheus text with group, monitor, lease and quorum metrics',
    async () => {
      // The marker file appears when the start script ran, a moment before the group is running.
      await c.waitFor('web running on n1', async () => {
        const g = (await c.status('n1')).groups.find((x: any) => x.name === 'web');
        return g.state === 'running' && g.lastFailover?.complete;
      });
      const r = await call('n1', 'GET', '/metrics');
      assert.equal(r.status, 200);
      assert.match(r.type, /^text\/plain/);
      const families = new Map(parsePrometheus(r.body).map((f) => [f.name, f]));
      const sample = (name: string, labels: Record<string, string> = {}) => {
        const f = families.get(name);
        assert.ok(f, `metric ${name} is exported`);
        const m = f.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
        assert.ok(m, `${name} has a sample with ${JSON.stringify(labels)}`);
        return Number(m.value);
      };
      assert.equal(sample('halo_up'), 1);
      assert.equal(sample('halo_quorum', { node: 'n1' }), 1);
      assert.equal(sample('halo_group_state', { group: 'web', state: 'running' }), 1);
      assert.equal(sample('halo_group_state', { group: 'web', state: 'stopped' }), 0);
      assert.equal(sample('halo_group_owner', { group: 'web', owner: 'n1' }), 1);
      assert.equal(sample('halo_group_active', { group: 'web' }), 1);
      assert.ok(sample('halo_failovers_total', { group: 'web' }) >= 2, 'first start and the restart on n1');
      assert.equal(families.get('halo_failovers_total')?.type, 'COUNTER');
      assert.ok(sample('halo_lease_renewals_total') > 0, 'renewals are counted');
      const sum = sample('halo_lease_renewal_seconds_total');
      assert.ok(
        sum > 0 && sum / sample('halo_lease_renewals_total') < 0.5,
        'a renewal round takes ms, not s',
      );
      assert.ok(sample('halo_group_lease_valid_seconds', { group: 'web' }) > 0);
      const heapMain = sample('halo_heap_used_bytes', { node: 'n1', thread: 'main' });
      const heapWorker = sample('halo_heap_used_bytes', { node: 'n1', thread: 'coordination' });
      assert.ok(heapMain > 1e6 && heapWorker > 1e6, `heaps of both threads: ${heapMain}, ${heapWorker}`);
      assert.ok(sample('halo_heap_size_bytes', { node: 'n1', thread: 'coordination' }) >= heapWorker);
      assert.ok(
        sample('halo_resident_memory_bytes', { node: 'n1' }) > heapMain + heapWorker,
        'the resident size holds both heaps',
      );
      await c.waitFor('a monitor result', async () => {
        const text = (await call('n1', 'GET', '/metrics')).body as string;
        return /halo_monitor_ok\{monitor="web\/alive"\} 1/.test(text);
      });
      const again = new Map(
        parsePrometheus((await call('n1', 'GET', '/metrics')).body).map((f) => [f.name, f]),
      );
      assert.ok(
        again
          .get('halo_monitor_duration_seconds')
          ?.metrics.some((m) => m.labels?.['monitor'] === 'web/alive'),
      );
      assert.ok(families.has('halo_dropped_messages_total'));
      assert.ok(families.has('halo_member_up'));
    },
  );

  await t.test('a move to a node that is down gets 409', async () => {
    await c.kill('n2', 'SIGKILL');
    await c.waitFor(
      'n1 sees n2 down',
      async () => !(await c.status('n1')).nodes.find((n: any) => n.name === 'n2').up,
    );
    const e = await expectError(
      call('n1', 'POST', '/v1/groups/web/move', { body: { to: 'n2' } }),
      409,
      'HALO_E_CONFLICT',
      ['POST', '/v1/groups/{group}/move'],
    );
    assert.match(e.message, /down/);
    // Status stays fast and complete with a peer gone.
    const s = await call('n1', 'GET', '/v1/status');
    validate('/v1/status', 'get', 200, s.body);
  });

  await t.test('neither the API token nor the cluster key appears in logs, events or status', async () => {
    const key = readFileSync(join(c.dir, 'cluster.key'), 'utf8').trim();
    const peer = peerToken(Buffer.from(key));
    const status = JSON.stringify((await call('n1', 'GET', '/v1/status')).body);
    const events = readFileSync(join(c.dir, 'state-n1', 'events.jsonl'), 'utf8');
    for (const [name, text] of [
      ['n1 log', c.logs('n1')],
      ['n2 log', c.logs('n2')],
      ['witness log', c.logs('witness')],
      ['events.jsonl', events],
      ['status', status],
    ] as const) {
      assert.ok(text.length > 0, `${name} is not empty`);
      for (const [what, secret] of [
        ['n1 token', c.token('n1')],
        ['n2 token', c.token('n2')],
        ['read-only token', READ_ONLY],
        ['cluster key', key],
        ['peer token', peer],
      ] as const)
        assert.ok(!text.includes(secret), `${what} appears in ${name}`);
    }
  });
});
