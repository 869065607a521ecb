import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceTypes } from '../../../src/engine/resources/registry.js';
import { resourceSpecs } from '../../../src/engine/resources/specs.js';

describe('resource registry', () => {
  it('lists the built-in resource types under their own type keys', () => {
    // The schema side (specs.ts) and the implementations (registry.ts) list the same types.
    assert.deepEqual([...resourceTypes.keys()].sort(), [...resourceSpecs.keys()].sort());
    for (const [key, spec] of resourceSpecs) assert.equal(resourceTypes.get(key)?.params, spec.params, key);
    for (const [key, type] of resourceTypes) {
      assert.equal(type.type, key);
      assert.ok(type.description.length > 0);
    }
  });

  it('parses parameters with durations in milliseconds', () => {
    const params = resourceTypes
      .get('script')
      ?.params.parse({ start: 'a', stop: 'b', timeout: { start: '2s' } });
    assert.deepEqual(params?.['timeout'], { start: 2000, stop: 60_000, check: 20_000 });
  });
});
