import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  clearFailuresEntries,
  groupIntent,
  intentKeys,
  monitorKey,
  parseIntent,
} from '../../../src/engine/intent.js';

const entry = (value: unknown, version = 1) => ({ value, version });

describe('intent', () => {
  test('absent keys mean started, no preferred node, no failures, nothing suspended', () => {
    const parsed = parseIntent({});
    assert.deepEqual(groupIntent(parsed, 'web'), {
      state: 'started',
      preferred: null,
      failed: [],
      failedReasons: {},
      failedAt: {},
      expired: [],
      cleanup: null,
      maintenance: false,
      managedSince: 0,
      probed: {},
    });
    assert.deepEqual(parsed.suspended, []);
  });

  test('parses state, preferred, failure marks and suspended monitors', () => {
    const parsed = parseIntent({
      'group/web/state': entry('stopped'),
      'group/web/preferred': entry('n2'),
      'group/web/failed/n1': entry(true),
      'group/web/failed/n3': entry(false),
      'monitor/web/appw/suspended': entry(true),
      'monitor/fsx/suspended': entry(false),
    });
    assert.deepEqual(groupIntent(parsed, 'web'), {
      state: 'stopped',
      preferred: 'n2',
      failed: ['n1'],
      failedReasons: {},
      failedAt: {},
      expired: [],
      cleanup: null,
      maintenance: false,
      managedSince: 0,
      probed: {},
    });
    assert.deepEqual(parsed.suspended, ['web/appw']);
  });

  test('ignores unknown keys and values of the wrong type', () => {
    const parsed = parseIntent({
      'group/web/state': entry('paused'),
      'group/web/preferred': entry(7),
      'group/web/other': entry(true),
      'something/else': entry(1),
    });
    assert.deepEqual(groupIntent(parsed, 'web'), {
      state: 'started',
      preferred: null,
      failed: [],
      failedReasons: {},
      failedAt: {},
      expired: [],
      cleanup: null,
      maintenance: false,
      managedSince: 0,
      probed: {},
    });
  });

  test('a failure mark carries its reason, shown only while the mark stands', () => {
    const parsed = parseIntent({
      'group/web/failed/n1': entry(true),
      'group/web/failedReason/n1': entry('start failed: disk not mounted'),
      'group/web/failed/n2': entry(false),
      'group/web/failedReason/n2': entry('an old reason'),
      'group/web/failedReason/n3': entry(7),
    });
    assert.deepEqual(groupIntent(parsed, 'web').failed, ['n1']);
    assert.deepEqual(groupIntent(parsed, 'web').failedReasons, { n1: 'start failed: disk not mounted' });
    assert.equal(intentKeys.failedReason('web', 'n1'), 'group/web/failedReason/n1');
  });

  test('builds keys the way the coordination contract documents them', () => {
    assert.equal(intentKeys.state('web'), 'group/web/state');
    assert.equal(intentKeys.preferred('web'), 'group/web/preferred');
    assert.equal(intentKeys.failed('web', 'n1'), 'group/web/failed/n1');
    assert.equal(intentKeys.suspended(monitorKey('web', 'appw')), 'monitor/web/appw/suspended');
    assert.equal(intentKeys.suspended(monitorKey(null, 'fsx')), 'monitor/fsx/suspended');
  });

  test('clearing failures writes false for every failed node', () => {
    const parsed = parseIntent({ 'group/web/failed/n1': entry(true), 'group/web/failed/n2': entry(true) });
    assert.deepEqual(clearFailuresEntries(parsed, 'web'), {
      'group/web/failed/n1': false,
      'group/web/failed/n2': false,
    });
  });

  test('clearing failures of one node writes false for that node only, counted or expired', () => {
    const parsed = parseIntent({ 'group/web/failed/n1': entry(true), 'group/web/failed/n2': entry(true) });
    const web = groupIntent(parsed, 'web');
    const withExpired = { ...parsed, groups: { web: { ...web, failed: ['n1'], expired: ['n2'] } } };
    assert.deepEqual(clearFailuresEntries(withExpired, 'web', 'n2'), { 'group/web/failed/n2': false });
    assert.deepEqual(clearFailuresEntries(withExpired, 'web'), {
      'group/web/failed/n1': false,
      'group/web/failed/n2': false,
    });
    assert.deepEqual(clearFailuresEntries(withExpired, 'web', 'n3'), {});
  });

  test('the time of a mark counts only when written with it (or later), not for an older mark', () => {
    const parsed = parseIntent({
      'group/web/failed/n1': entry(true, 5000),
      'group/web/failedAt/n1': entry(1_700_000_000_000, 5000),
      // A peer that knows no failedAt marked n2 again after an earlier, timed mark.
      'group/web/failed/n2': entry(true, 9000),
      'group/web/failedAt/n2': entry(1_600_000_000_000, 4000),
      'group/web/failedAt/n3': entry(1_700_000_000_000, 5000),
      'group/web/failed/n4': entry(true, 5000),
      'group/web/failedAt/n4': entry('yesterday', 5000),
    });
    assert.deepEqual(groupIntent(parsed, 'web').failedAt, { n1: 1_700_000_000_000 });
    assert.equal(intentKeys.failedAt('web', 'n1'), 'group/web/failedAt/n1');
  });

  test('the last cleanup request of a group is known by its version', () => {
    const parsed = parseIntent({
      'group/web/cleanup': entry({ resource: 'app', node: null }, 42),
      'group/db/cleanup': entry({ node: 'n2' }, 7),
      'group/x/cleanup': entry('bad', 8),
    });
    assert.deepEqual(groupIntent(parsed, 'web').cleanup, { version: 42, resource: 'app', node: null });
    assert.deepEqual(groupIntent(parsed, 'db').cleanup, { version: 7, resource: null, node: 'n2' });
    assert.equal(groupIntent(parsed, 'x').cleanup, null);
    assert.equal(intentKeys.cleanup('web'), 'group/web/cleanup');
  });
});
