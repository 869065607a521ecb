import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  clearFailuresEntries,
  groupIntent,
  intentKeys,
  monitorKey,
  parseIntent,
} from '../../../src/engine/intent.js';

const entry = (value: unknown) => ({ value, version: 1 });

describe('intent', () => {
  test('absent keys mean started, no preferred node, no failures, nothing suspended', () => {
    const parsed = parseIntent({});
    assert.deepEqual(groupIntent(parsed, 'web'), {
      state: 'started',
      preferred: null,
      failed: [],
      failedReasons: {},
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
});
