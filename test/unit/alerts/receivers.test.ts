import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { MembershipEvents } from '../../../src/agent/membership-events.js';
import type { Alert } from '../../../src/alerts/alert.js';
import { scriptSender } from '../../../src/alerts/receivers/script.js';
import { signature, webhookSender } from '../../../src/alerts/receivers/webhook.js';
import type { CoordinatorView } from '../../../src/coordination/types.js';
import type { EventInput } from '../../../src/engine/event-log.js';
import { tempDir, writePrivate } from '../../support/temp-dir.js';

const alert: Alert = {
  kind: 'resource',
  severity: 'warning',
  task: 'failover',
  node: 'n2',
  rsc: 'web',
  desc: 'OK (failover from n1)',
  status: 0,
  rc: 0,
  targetRc: 0,
  at: Date.UTC(2026, 11, 5, 6, 0, 0, 250),
  sequence: 9,
  reporter: 'n2',
  cluster: 'prod',
  group: 'web',
  oldNode: 'n1',
  newNode: 'n2',
  message: 'web started',
};

const common = { kinds: [], minSeverity: 'info' as const, timeoutMs: 5000, queueSize: 10 };

test("a script gets the alert variables and its own env, never the agent's environment", async (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'agent.sh');
  writeFileSync(script, `#!/bin/sh\nenv > "${join(dir, 'env.txt')}"\n`, { mode: 0o755 });
  process.env['HALO_TEST_AGENT_SECRET'] = 'must-not-leak';
  t.after(() => delete process.env['HALO_TEST_AGENT_SECRET']);
  const send = scriptSender({
    ...common,
    name: 's',
    type: 'script',
    path: script,
    recipient: '/tmp/x',
    timestampFormat: '%Y',
    env: { EXTRA: 'yes' },
  });
  await send(alert, new AbortController().signal);
  const env = readFileSync(join(dir, 'env.txt'), 'utf8');
  assert.match(env, /^CRM_alert_kind=resource$/m);
  assert.match(env, /^CRM_alert_task=failover$/m);
  assert.match(env, /^CRM_alert_recipient=\/tmp\/x$/m);
  assert.match(env, /^HALO_ALERT_OLD_NODE=n1$/m);
  assert.match(env, /^EXTRA=yes$/m);
  assert.doesNotMatch(env, /must-not-leak/);
});

test('a script that exits non-zero fails the delivery with its exit code and output', async (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'fail.sh');
  writeFileSync(script, '#!/bin/sh\necho "no route to pager" >&2\nexit 3\n', { mode: 0o755 });
  const send = scriptSender({
    ...common,
    name: 's',
    type: 'script',
    path: script,
    recipient: '',
    timestampFormat: '%s',
    env: {},
  });
  await assert.rejects(send(alert, new AbortController().signal), /exited with 3: no route to pager/);
});

test('a webhook signs the body, and a 4xx answer is marked not worth retrying', async (t) => {
  const dir = tempDir(t);
  const keyFile = writePrivate(join(dir, 'hook.key'), 'k'.repeat(32) + '\n');
  const seen: Array<{ body: string; sig: string | undefined }> = [];
  let status = 204;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      seen.push({ body, sig: req.headers['x-halo-signature'] as string | undefined });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const send = webhookSender({
    ...common,
    name: 'h',
    type: 'webhook',
    // A token in the path, as many webhook services use: it must not reach the error.
    url: `http://127.0.0.1:${port}/hooks/T0KEN-in-path?sig=Q5ECRET`,
    secretFile: keyFile,
    retries: 3,
    backoffMs: 10,
  });
  await send(alert, new AbortController().signal);
  assert.equal(seen[0]?.sig, signature('k'.repeat(32), seen[0]?.body ?? ''));
  assert.equal(JSON.parse(seen[0]?.body ?? '{}').newNode, 'n2');
  const failure = async () => {
    try {
      await send(alert, new AbortController().signal);
      return { retryable: undefined as boolean | undefined, message: 'delivered' };
    } catch (e) {
      return e as { retryable?: boolean; message: string };
    }
  };
  status = 404;
  const err = await failure();
  assert.equal(err.retryable, false);
  assert.match(err.message, /answered 404/);
  assert.doesNotMatch(err.message, /T0KEN|Q5ECRET/);
  status = 503;
  const err5 = await failure();
  assert.match(err5.message, /answered 503/);
  assert.notEqual(err5?.retryable, false, 'a 503 is retried');
});

test('membership events: a member leaving and coming back, and quorum lost and regained, but not the first sightings', () => {
  const events: EventInput[] = [];
  const m = new MembershipEvents((e) => events.push(e));
  const view = (n1: boolean, quorum: boolean) =>
    ({
      node: 'n2',
      quorum,
      members: [
        { name: 'n1', kind: 'node', up: n1 },
        { name: 'n2', kind: 'node', up: true },
      ],
    }) as unknown as CoordinatorView;
  m.update(view(false, false));
  m.update(view(true, true));
  assert.equal(events.length, 0, 'the first sighting and the first quorum are not news');
  m.update(view(false, false));
  m.update(view(true, true));
  assert.deepEqual(
    events.map((e) => e.message),
    [
      'node n1 left (not heard)',
      'quorum lost: this node no longer hears a majority of voters',
      'node n1 joined',
      'quorum regained',
    ],
  );
});
