import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monitorTypes } from '../../../src/engine/monitors/registry.js';

describe('monitor registry', () => {
  it('lists every built-in monitor type under its own type key', () => {
    assert.deepEqual([...monitorTypes.keys()].sort(), [
      'http',
      'process',
      'resource',
      'script',
      'smb',
      'stall',
      'tcp',
    ]);
    for (const [key, plugin] of monitorTypes) {
      assert.equal(plugin.type, key);
      assert.ok(plugin.description.length > 0);
    }
  });

  it('marks the resource monitor as needing a target', () => {
    assert.equal(monitorTypes.get('resource')?.target, 'always');
    assert.equal(monitorTypes.get('tcp')?.target, 'optional');
  });
});
