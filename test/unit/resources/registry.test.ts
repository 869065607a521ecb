import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinResources, resourceTypes } from '../../../src/engine/resources/registry.js';

describe('resource registry', () => {
  it('lists each built-in resource plugin once, under its own type key', () => {
    assert.equal(resourceTypes.size, builtinResources.length, 'two plugins share a type key');
    for (const [key, plugin] of resourceTypes) {
      assert.equal(plugin.type, key);
      assert.ok(plugin.description.length > 0);
    }
  });

  it('parses parameters with durations in milliseconds', () => {
    const params = resourceTypes
      .get('script')
      ?.params.parse({ start: 'a', stop: 'b', timeout: { start: '2s' } });
    assert.deepEqual(params?.['timeout'], { start: 2000, stop: 60_000, check: 20_000 });
  });
});
