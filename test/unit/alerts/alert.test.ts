import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alertOf, wanted } from '../../../src/alerts/alert.js';
import { ALERT_SETTLE_MS, AlertDispatcher } from '../../../src/alerts/dispatcher.js';
import { alertEnv, formatTimestamp } from '../../../src/alerts/pacemaker-env.js';
import type { AlertReceiverConfig } from '../../../src/config/model.js';
import type { EventInput, HaloEvent } from '../../../src/engine/event-log.js';
import { FakeTimers, settle } from '../../support/fake-timers.js';

let seq = 0;
function event(e: Partial<HaloEvent> & Pick<HaloEvent, 'type' | 'message'>): HaloEvent {
  return { seq: ++seq, ts: '2026-11-21T12:00:00.123Z', node: 'n2', level: 'info', ...e };
}

const started = (previousOwner: string | null) =>
  event({ type: 'group', group: 'web', message: 'web started', details: { started: true, previousOwner } });

test('a group started on a new node is a failover alert naming the old and the new node', () => {
  const a = alertOf(started('n1'), 'prod');
  assert.ok(a);
  assert.equal(a.kind, 'resource');
  assert.equal(a.task, 'failover');
  assert.equal(a.severity, 'warning');
  assert.equal(a.oldNode, 'n1');
  assert.equal(a.newNode, 'n2');
  assert.equal(a.rsc, 'web');
  assert.equal(a.cluster, 'prod');
});

test('the first start of a group, or a restart on the same node, does not alert', () => {
  assert.equal(alertOf(started(null), 'prod'), null);
  assert.equal(alertOf(started('n2'), 'prod'), null);
});

test('failed starts and stops, failing monitors, lost leases, quorum and the deadman alert; routine events do not', () => {
  const cases: Array<[HaloEvent, string | null, string | null]> = [
    [
      event({
        type: 'group',
        level: 'error',
        group: 'web',
        resource: 'app',
        message: 'start of web failed at app: x',
        details: { startFailed: true },
      }),
      'resource',
      'start',
    ],
    [
      event({
        type: 'alert',
        level: 'error',
        group: 'web',
        resource: 'app',
        message: 'stop of app failed',
        details: { stopFailed: true },
      }),
      'resource',
      'stop',
    ],
    [
      event({ type: 'monitor', level: 'warn', group: 'web', monitor: 'm', message: 'monitor web/m failed' }),
      'resource',
      'monitor',
    ],
    [
      event({
        type: 'alert',
        level: 'error',
        group: 'web',
        monitor: 'm',
        message: 'monitor web/m keeps failing: x',
      }),
      'resource',
      'monitor',
    ],
    [
      event({ type: 'lease', level: 'warn', group: 'web', message: 'lease of web lost: no majority' }),
      'node',
      'lease-lost',
    ],
    [
      event({ type: 'agent', level: 'error', message: 'quorum lost', details: { quorum: false } }),
      'node',
      'quorum-lost',
    ],
    [
      event({
        type: 'agent',
        level: 'warn',
        message: 'node n1 left',
        details: { member: 'n1', membership: { up: false } },
      }),
      'node',
      'leave',
    ],
    [
      event({
        type: 'agent',
        level: 'error',
        message: 'deadman helper died',
        details: { deadman: { state: 'down' } },
      }),
      'fencing',
      'deadman',
    ],
    [event({ type: 'lease', group: 'web', message: 'lease of web acquired (term 3)' }), null, null],
    [event({ type: 'monitor', level: 'info', group: 'web', message: 'monitor web/m passed' }), null, null],
    [event({ type: 'alert-failed', level: 'warn', message: 'alert to x failed' }), null, null],
  ];
  for (const [e, kind, task] of cases) {
    const a = alertOf(e, 'c');
    assert.equal(a?.kind ?? null, kind, e.message);
    assert.equal(a?.task ?? null, task, e.message);
  }
  assert.equal(alertOf(cases[6]![0], 'c')?.node, 'n1', 'a node alert names the member that left');
});

test('a receiver gets only the kinds it lists and only alerts of at least its minimum severity', () => {
  const a = alertOf(started('n1'), 'c')!;
  assert.equal(wanted({ kinds: [], minSeverity: 'info' }, a), true);
  assert.equal(wanted({ kinds: ['resource'], minSeverity: 'warning' }, a), true);
  assert.equal(wanted({ kinds: ['node', 'fencing'], minSeverity: 'info' }, a), false);
  assert.equal(wanted({ kinds: [], minSeverity: 'critical' }, a), false);
});

test("CRM_alert_timestamp follows Pacemaker's timestamp-format, including %N with a digit count", () => {
  const d = new Date(2026, 10, 21, 9, 5, 7, 123);
  assert.equal(formatTimestamp(d, '%H:%M:%S.%06N'), '09:05:07.123000');
  assert.equal(formatTimestamp(d, '%Y-%m-%d %H:%M:%S.%3N'), '2026-11-21 09:05:07.123');
  assert.equal(formatTimestamp(d, '%N'), '123000000');
  assert.equal(formatTimestamp(d, '100%% %s'), `100% ${Math.floor(d.getTime() / 1000)}`);
});

test('the script environment has every CRM_alert_* variable the Pacemaker samples read, and Halo fields', () => {
  const env = alertEnv(alertOf(started('n1'), 'prod')!, '/tmp/alerts.log', '%H');
  for (const key of [
    'CRM_alert_kind',
    'CRM_alert_node',
    'CRM_alert_rsc',
    'CRM_alert_task',
    'CRM_alert_desc',
    'CRM_alert_status',
    'CRM_alert_rc',
    'CRM_alert_target_rc',
    'CRM_alert_timestamp',
    'CRM_alert_recipient',
    'CRM_alert_version',
    'CRM_alert_node_sequence',
    'CRM_alert_interval',
  ])
    assert.equal(typeof env[key], 'string', key);
  assert.equal(env['CRM_alert_recipient'], '/tmp/alerts.log');
  assert.equal(env['HALO_ALERT_OLD_NODE'], 'n1');
  assert.equal(env['HALO_ALERT_NEW_NODE'], 'n2');
  assert.equal(env['HALO_ALERT_CLUSTER'], 'prod');
});

function receiver(name: string, extra: Partial<AlertReceiverConfig> = {}): AlertReceiverConfig {
  return {
    name,
    type: 'webhook',
    url: 'http://127.0.0.1:1/',
    retries: 0,
    backoffMs: 10,
    kinds: [],
    minSeverity: 'info',
    timeoutMs: 100,
    queueSize: 10,
    ...extra,
  } as AlertReceiverConfig;
}

test('a delivery that fails becomes an alert-failed event naming the receiver, which itself never alerts', async () => {
  const timers = new FakeTimers();
  const listeners: Array<(e: HaloEvent) => void> = [];
  const appended: EventInput[] = [];
  let sends = 0;
  const d = new AlertDispatcher({
    cluster: 'c',
    receivers: [receiver('ops-hook'), receiver('pager', { minSeverity: 'critical' })],
    subscribe: (l) => {
      listeners.push(l);
      return () => undefined;
    },
    append: (e) => {
      appended.push(e);
      for (const l of listeners) l(event({ ...e, level: e.level ?? 'info' }));
    },
    timers,
    sender: () => async () => {
      sends++;
      throw new Error('connection refused');
    },
  });
  d.start();
  for (const l of listeners) l(started('n1'));
  await settle();
  await timers.advance(ALERT_SETTLE_MS - 1);
  assert.equal(sends, 0, 'delivery waits until the failover is over');
  await timers.advance(1);
  await timers.advance(1000);
  assert.equal(sends, 1, 'the warning goes only to the receiver without a critical minimum');
  assert.equal(appended.length, 1);
  assert.equal(appended[0]?.type, 'alert-failed');
  assert.equal(appended[0]?.details?.['receiver'], 'ops-hook');
  assert.match(
    appended[0]?.message ?? '',
    /to ops-hook \(webhook\) failed after 1 attempt: connection refused/,
  );
  const status = d.status();
  assert.deepEqual(
    status.map((s) => [s.name, s.failed, s.sent]),
    [
      ['ops-hook', 1, 0],
      ['pager', 0, 0],
    ],
  );
  await d.stop();
});

test('a stonith fence by the new owner is a fencing alert about the fenced node; its progress events are not', () => {
  const fenced = alertOf(
    event({
      type: 'group',
      level: 'warn',
      group: 'web',
      message: 'n1 fenced: instance i-0 is stopped',
      details: { stonith: { target: 'n1', phase: 'fenced', attempt: 1 } },
    }),
    'prod',
  );
  assert.equal(fenced?.kind, 'fencing');
  assert.equal(fenced?.node, 'n1');
  assert.equal(fenced?.rc, 0);
  assert.match(fenced?.desc ?? '', /off of n1 by n2 for group web: OK/);
  const failed = alertOf(
    event({
      type: 'group',
      level: 'error',
      group: 'web',
      message: 'fencing n1 failed (attempt 1): boom; web stays down',
      details: { stonith: { target: 'n1', phase: 'failed', attempt: 1, error: 'boom' } },
    }),
    'prod',
  );
  assert.equal(failed?.kind, 'fencing');
  assert.equal(failed?.rc, 1);
  for (const phase of ['needed', 'fencing'])
    assert.equal(
      alertOf(
        event({ type: 'group', group: 'web', message: 'x', details: { stonith: { target: 'n1', phase } } }),
        'prod',
      ),
      null,
    );
});
