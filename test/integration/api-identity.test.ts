import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir, writePrivate } from '../support/temp-dir.js';
import { groupsCluster } from './groups-support.js';

/**
 * Issue #16, "who": several named API tokens, each read-write or read-only; every operator
 * action records the name of the token that asked, in the event (`by`, and in the message the
 * CLI and the web UI show). Routine engine events are not attributed.
 */
test('named API tokens: each action records who asked; a read-only name may not act', async (t) => {
  const secrets = tempDir(t, 'halo-tokens-');
  const alice = 'a'.repeat(40);
  const bob = 'b'.repeat(40);
  writePrivate(join(secrets, 'alice.token'), `${alice}\n`);
  writePrivate(join(secrets, 'bob.token'), `${bob}\n`);
  const c = await groupsCluster(t, {
    nodes: ['n1', 'n2'],
    groups: {
      web: {
        nodes: ['n1', 'n2'],
        resources: {
          r: {
            type: 'script',
            start: 'touch "r.$HALO_NODE"',
            stop: 'rm -f "r.$HALO_NODE"',
            check: 'test -f "r.$HALO_NODE" || exit 7',
          },
        },
      },
    },
    api: {
      tokens: {
        alice: { file: join(secrets, 'alice.token') },
        bob: { file: join(secrets, 'bob.token'), access: 'read-only' },
      },
    },
  });
  await c.startAgent('n1');
  await c.waitFor('web running on n1', () => existsSync(join(c.dir, 'r.n1')));
  const url = `http://127.0.0.1:${c.ports['n1']!.api}`;
  const call = (token: string, method: string, path: string, body?: unknown) =>
    fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  assert.deepEqual(await (await call(alice, 'GET', '/v1/whoami')).json(), {
    access: 'read-write',
    name: 'alice',
  });
  assert.deepEqual(await (await call(bob, 'GET', '/v1/whoami')).json(), { access: 'read-only', name: 'bob' });
  assert.equal((await call(bob, 'POST', '/v1/groups/web/stop')).status, 403, 'bob reads only');

  assert.equal(
    (await call(alice, 'PATCH', '/v1/groups/web/resources/r/params', { env: { A: '1' } })).status,
    200,
  );
  assert.equal((await call(alice, 'POST', '/v1/groups/web/stop')).status, 202);
  await c.waitFor('web stopped', () => !existsSync(join(c.dir, 'r.n1')));
  assert.equal((await call(c.token('n1'), 'POST', '/v1/groups/web/start')).status, 202);

  // The event file is written behind the answer.
  const events = await c.waitFor('the start in the event log', () => {
    const all = c.events('n1') as Array<{ type: string; message: string; by?: string }>;
    return all.some((e) => /^start of web requested/.test(e.message)) ? all : false;
  });
  const by = (re: RegExp) => events.filter((e) => re.test(e.message)).map((e) => e.by);
  assert.deepEqual(by(/^stop of web requested/), ['alice']);
  assert.deepEqual(by(/^start of web requested/), ['admin'], 'the default token is named admin');
  assert.deepEqual(by(/^parameters of web\/r set: env/), ['alice']);
  assert.ok(
    events.some((e) => /^parameters of web\/r set: env \(by alice\)$/.test(e.message)),
    'shown in the message',
  );
  assert.ok(
    events.filter((e) => e.type === 'resource').every((e) => e.by === undefined),
    'what the engine does on its own is not attributed',
  );
});
