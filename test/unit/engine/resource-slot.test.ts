import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResourceConfig } from '../../../src/config/model.js';
import { ResourceSlot } from '../../../src/engine/resource-slot.js';
import { FakeResource } from '../../support/fake-resource.js';

const config: ResourceConfig = { name: 'app', type: 'fake', after: [], params: { port: 80, mode: 'slow' } };

function fixture() {
  const clock = { now: 1000 };
  const made: ResourceConfig[] = [];
  const make = (c: ResourceConfig) => {
    made.push(c);
    return new FakeResource(c.name, c.params, []);
  };
  const slot = new ResourceSlot(config, make(config), () => clock.now);
  return { clock, slot, made, make };
}

describe('ResourceSlot', () => {
  test('a new resource is stopped since creation, with no check, error or pending parameters', () => {
    const { slot } = fixture();
    assert.equal(slot.state, 'stopped');
    assert.equal(slot.since, 1000);
    assert.equal(slot.lastCheck, null);
    assert.equal(slot.lastError, null);
    assert.equal(slot.lastOutput, null);
    assert.deepEqual(slot.pending, {});
  });

  test('a failure keeps its reason and output until the next failure; other changes keep them', () => {
    const { clock, slot } = fixture();
    clock.now = 2000;
    slot.changed('failed', { reason: 'exit 1', output: 'boom' });
    assert.equal(slot.state, 'failed');
    assert.equal(slot.since, 2000);
    clock.now = 3000;
    slot.changed('running', {});
    assert.equal(slot.since, 3000);
    assert.equal(slot.lastError, 'exit 1');
    assert.equal(slot.lastOutput, 'boom');
    slot.changed('failed', { reason: 'timeout' });
    assert.equal(slot.lastError, 'timeout');
    assert.equal(slot.lastOutput, null, 'a failure without output clears the old output');
  });

  test('a check is recorded with the wall time it finished', () => {
    const { clock, slot } = fixture();
    clock.now = Date.UTC(2026, 0, 2, 3, 4, 5);
    slot.checked({ state: 'running', reason: 'ok' });
    assert.deepEqual(slot.lastCheck, { state: 'running', reason: 'ok', at: '2026-01-02T03:04:05.000Z' });
  });

  test('pending parameters accumulate and are consumed by the next replacement of the instance', () => {
    const { slot, made, make } = fixture();
    slot.addPending({ mode: 'fast' });
    slot.addPending({ port: 81 });
    assert.deepEqual(slot.pending, { mode: 'fast', port: 81 });
    const before = slot.instance;
    slot.replaceParams({ ...slot.config.params, ...slot.pending }, make);
    assert.deepEqual(slot.config.params, { port: 81, mode: 'fast' });
    assert.deepEqual(
      made.at(-1)?.params,
      { port: 81, mode: 'fast' },
      'the instance is built from the new config',
    );
    assert.notEqual(slot.instance, before);
    assert.deepEqual(slot.pending, {});
  });

  test('a pending view once read does not change with later pending parameters', () => {
    const { slot, make } = fixture();
    slot.addPending({ mode: 'fast' });
    const before = slot.pending;
    slot.addPending({ port: 81 });
    slot.replaceParams({ port: 82 }, make);
    assert.deepEqual(before, { mode: 'fast' });
  });

  test('live parameters change the config without a new instance and leave pending ones alone', () => {
    const { slot } = fixture();
    slot.addPending({ mode: 'fast' });
    const before = slot.instance;
    slot.appliedLive({ port: 8080 });
    assert.deepEqual(slot.config.params, { port: 8080, mode: 'slow' });
    assert.equal(slot.instance, before);
    assert.deepEqual(slot.pending, { mode: 'fast' });
    assert.deepEqual(config.params, { port: 80, mode: 'slow' }, 'the original config object is untouched');
  });
});
