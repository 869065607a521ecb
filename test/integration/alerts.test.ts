import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { type RunningCluster, startCluster } from '../support/cluster.js';
import { freePort } from '../support/ports-and-processes.js';
import { needPeer } from '../support/requirements.js';
import { tempDir, writePrivate } from '../support/temp-dir.js';

/**
 * Alert delivery at the user's level: a loopback 2-node + witness cluster fails a group over
 * (kill -9 of the owner) and real receivers get the alert: a mail on an SMTP server, a trap in
 * Debian's snmptrapd, a signed JSON POST (the first answered 500 and retried) and a line written
 * by Pacemaker's own sample agent alert_file.sh. Then receivers that are down or never answer:
 * the failover happens all the same and the losses show as alert-failed events.
 */

const SNMPTRAPD = '/usr/sbin/snmptrapd';
const ALERT_FILE_SAMPLE = '/usr/share/pacemaker/alerts/alert_file.sh.sample';

function markerGroup() {
  return {
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
    },
  };
}

async function failover(t: TestContext, alerts: Record<string, unknown>): Promise<RunningCluster> {
  const c = await startCluster(t, { nodes: ['n1', 'n2'], groups: markerGroup(), alerts });
  await c.startAgent('n1');
  await c.startAgent('n2');
  await c.waitFor('web running on n1', () => existsSync(join(c.dir, 'marker.n1')));
  await c.waitFor('n2 sees n1 own web', async () => (await c.status('n2')).groups[0].owner === 'n1');
  await c.kill('n1', 'SIGKILL');
  await c.waitFor('web running on n2', () => existsSync(join(c.dir, 'marker.n2')), 30_000);
  return c;
}

async function udpFreePort(): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

/** snmptrapd in the foreground on a loopback port, logging numeric OIDs to a file. */
async function startSnmptrapd(t: TestContext, dir: string): Promise<{ port: number; log: string }> {
  const port = await udpFreePort();
  const conf = join(dir, 'snmptrapd.conf');
  const log = join(dir, 'traps.log');
  writeFileSync(conf, 'authCommunity log halo-it\n');
  const child: ChildProcess = spawn(
    SNMPTRAPD,
    ['-f', '-n', '-On', '-m', '', '-Lf', log, '-C', '-c', conf, `udp:127.0.0.1:${port}`],
    { stdio: 'ignore', env: { ...process.env, SNMP_PERSISTENT_DIR: join(dir, 'snmp') } },
  );
  t.after(() => {
    child.kill('SIGKILL');
  });
  const deadline = Date.now() + 10_000;
  while (!(existsSync(log) && readFileSync(log, 'utf8').includes('NET-SNMP version'))) {
    if (Date.now() > deadline) throw new Error('snmptrapd did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, log };
}

async function startSmtp(
  t: TestContext,
): Promise<{ port: number; mails: Array<{ to: string[]; text: string }> }> {
  const mails: Array<{ to: string[]; text: string }> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let text = '';
      stream.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), text });
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port, mails };
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => resolve(body));
  });

test('a failover is mailed, trapped, POSTed (signed, retried after a 500) and written by Pacemaker’s alert_file.sh sample', async (t) => {
  if (!needPeer(t, `snmptrapd (${SNMPTRAPD}, Debian package snmptrapd)`, existsSync(SNMPTRAPD))) return;
  if (!needPeer(t, `${ALERT_FILE_SAMPLE} (Debian package pacemaker)`, existsSync(ALERT_FILE_SAMPLE))) return;
  const dir = tempDir(t, 'halo-alerts-');
  const smtp = await startSmtp(t);
  const snmp = await startSnmptrapd(t, dir);

  const secretFile = writePrivate(join(dir, 'webhook.key'), 'a-webhook-key-of-32-characters-xx');
  const posts: Array<{ body: string; signature: string | undefined; status: number }> = [];
  const hook = createHttpServer(async (req, res) => {
    const body = await readBody(req);
    const first = posts.length === 0;
    posts.push({
      body,
      signature: req.headers['x-halo-signature'] as string | undefined,
      status: first ? 500 : 204,
    });
    res.writeHead(first ? 500 : 204).end(first ? 'try again' : undefined);
  });
  const hookPort = await freePort();
  await new Promise<void>((resolve) => hook.listen(hookPort, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => hook.close(() => resolve())));

  const agent = join(dir, 'alert_file.sh');
  copyFileSync(ALERT_FILE_SAMPLE, agent);
  chmodSync(agent, 0o755);
  const recipient = join(dir, 'pacemaker-alerts.log');

  const c = await failover(t, {
    mail: {
      type: 'smtp',
      host: '127.0.0.1',
      port: smtp.port,
      from: 'halo@example.test',
      to: ['ops@example.test'],
    },
    traps: { type: 'snmp', host: '127.0.0.1', port: snmp.port, community: 'halo-it' },
    hook: {
      type: 'webhook',
      url: `http://127.0.0.1:${hookPort}/alerts`,
      secretFile,
      retries: 3,
      backoff: '200ms',
      kinds: ['resource'],
    },
    pacemaker: { type: 'script', path: agent, recipient, kinds: ['resource'] },
  });

  await t.test('the SMTP server receives a mail naming the group, the old and the new node', async () => {
    const mail = await c.waitFor('the failover mail', () =>
      smtp.mails.find((m) => /web failed over from n1 to n2/.test(m.text)),
    );
    assert.deepEqual(mail.to, ['ops@example.test']);
    assert.match(mail.text, /Old node: n1/);
    assert.match(mail.text, /New node: n2/);
  });

  await t.test('snmptrapd logs the haloFailover trap with its varbinds', async () => {
    const trap = await c.waitFor('the failover trap', () => {
      const text = readFileSync(snmp.log, 'utf8');
      return text.includes('.1.3.6.1.3.7400.0.1') ? text : false;
    });
    assert.match(trap, /\.1\.3\.6\.1\.6\.3\.1\.1\.4\.1\.0 = OID: \.1\.3\.6\.1\.3\.7400\.0\.1/);
    assert.match(trap, /\.1\.3\.6\.1\.3\.7400\.1\.4\.0 = STRING: "failover"/);
    assert.match(trap, /\.1\.3\.6\.1\.3\.7400\.1\.11\.0 = STRING: "n1"/);
    assert.match(trap, /\.1\.3\.6\.1\.3\.7400\.1\.12\.0 = STRING: "n2"/);
    assert.match(trap, /\.1\.3\.6\.1\.3\.7400\.1\.10\.0 = STRING: "web"/);
  });

  await t.test('the webhook gets the JSON with a valid HMAC, after its first 500 was retried', async () => {
    const ok = await c.waitFor('a retried, accepted failover POST', () =>
      posts.find((p) => p.status === 204 && JSON.parse(p.body).task === 'failover'),
    );
    const failed = posts.find((p) => p.status === 500);
    assert.ok(failed, 'the first POST was answered 500');
    assert.equal(failed.body, ok.body, 'the retry sends the same alert');
    const expected = `sha256=${createHmac('sha256', 'a-webhook-key-of-32-characters-xx').update(ok.body).digest('hex')}`;
    assert.equal(ok.signature, expected);
    const json = JSON.parse(ok.body);
    assert.equal(json.group, 'web');
    assert.equal(json.oldNode, 'n1');
    assert.equal(json.newNode, 'n2');
    assert.equal(json.cluster, 'it');
  });

  await t.test(
    'Pacemaker’s alert_file.sh sample writes the failover line to its recipient file',
    async () => {
      const line = await c.waitFor('the alert_file.sh line', () => {
        const text = existsSync(recipient) ? readFileSync(recipient, 'utf8') : '';
        return text.split('\n').find((l) => l.includes("Resource operation 'failover' for 'web' on 'n2'"));
      });
      assert.match(
        line,
        /^\d\d:\d\d:\d\d\.\d{6}: Resource operation 'failover' for 'web' on 'n2': OK \(failover from n1\)$/,
      );
    },
  );

  await t.test('nothing failed: no alert-failed event and the counters say so', async () => {
    assert.deepEqual(
      c.events('n2').filter((e) => e.type === 'alert-failed'),
      [],
    );
    const { body } = await c.api('n2', 'GET', '/metrics');
    assert.match(body as string, /halo_alerts_failed_total\{receiver="hook",type="webhook"\} 0/);
    assert.match(body as string, /halo_alerts_sent_total\{receiver="hook",type="webhook"\} [1-9]/);
  });
});

test('a receiver that never answers and one that is down do not keep the group from failing over; their losses are alert-failed events', async (t) => {
  // Accepts connections and never answers a byte.
  const held: Socket[] = [];
  const hole = createTcpServer((s) => {
    held.push(s);
  });
  const holePort = await freePort();
  await new Promise<void>((resolve) => hole.listen(holePort, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of held) s.destroy();
    return new Promise<void>((resolve) => hole.close(() => resolve()));
  });
  const closedPort = await freePort();

  const c = await failover(t, {
    blackhole: {
      type: 'webhook',
      url: `http://127.0.0.1:${holePort}/`,
      retries: 1,
      backoff: '100ms',
      timeout: '1s',
    },
    mail: {
      type: 'smtp',
      host: '127.0.0.1',
      port: closedPort,
      from: 'halo@example.test',
      to: ['ops@example.test'],
      timeout: '1s',
    },
  });
  const status = await c.waitFor('web running on n2 by its status', async () => {
    const s = await c.status('n2');
    return s.groups[0].state === 'running' ? s : false;
  });
  assert.equal(status.groups[0].owner, 'n2');

  const failed = await c.waitFor('alert-failed for both receivers', () => {
    const events = c.events('n2').filter((e) => e.type === 'alert-failed' && e.details?.task === 'failover');
    const names = new Set(events.map((e) => e.details.receiver));
    return names.has('blackhole') && names.has('mail') ? events : false;
  });
  const hole1 = failed.find((e) => e.details.receiver === 'blackhole');
  assert.match(hole1.message, /to blackhole \(webhook\) failed after 2 attempts: timed out after 1000ms/);
  const mail = failed.find((e) => e.details.receiver === 'mail');
  assert.match(mail.output, /ECONNREFUSED|connect/i);

  const after = await c.status('n2');
  const row = after.alerts.find((a: { name: string }) => a.name === 'blackhole');
  assert.ok(row.failed >= 1);
  const cli = await c.cli('n2', ['status']);
  assert.match(cli.stdout, /alerts to blackhole \(webhook\): \d+ failed/);
});
