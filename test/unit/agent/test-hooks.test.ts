import assert from 'node:assert/strict';
import { test } from 'node:test';
import { busyWait, installTestHooks } from '../../../src/agent/test-hooks.js';
import { silentLogger } from '../../../src/log.js';

test('test hooks are not installed unless HALO_TEST_HOOKS=1: SIGUSR2 gets no handler', () => {
  const before = process.listenerCount('SIGUSR2');
  for (const value of [undefined, '', '0', 'true', 'yes'])
    assert.equal(
      installTestHooks(silentLogger, { HALO_TEST_HOOKS: value }),
      false,
      `HALO_TEST_HOOKS=${value}`,
    );
  assert.equal(process.listenerCount('SIGUSR2'), before);
});

test('busyWait spins the thread for at least the asked time', () => {
  const spun = busyWait(30);
  assert.ok(spun >= 30, `spun ${spun} ms`);
});
