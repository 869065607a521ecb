import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import type { ResourceConfig } from '../../../src/config/model.js';
import { validateParamChanges } from '../../../src/engine/param-changes.js';

const spec = {
  params: z.strictObject({
    start: z.string(),
    timeout: z
      .strictObject({ start: z.number().prefault(60_000), stop: z.number().prefault(60_000) })
      .prefault({}),
    env: z.record(z.string(), z.string()).optional(),
  }),
  paramModes: { timeout: 'live' as const },
};

const resource: ResourceConfig = {
  name: 'r',
  type: 'script',
  after: [],
  params: { start: 'a', timeout: { start: 60_000, stop: 2000 }, env: { A: '1', B: '2' } },
};

describe('validateParamChanges', () => {
  test('a nested change keeps the sub-keys it does not name, instead of their schema defaults', () => {
    assert.deepEqual(validateParamChanges(resource, spec, { timeout: { start: 5000 } }), {
      timeout: { start: 5000, stop: 2000 },
    });
  });

  test('a map without defaults is replaced as given', () => {
    assert.deepEqual(validateParamChanges(resource, spec, { env: { C: '3' } }), { env: { C: '3' } });
  });

  test('unknown keys and invalid values are rejected with HALO_E_BAD_REQUEST', () => {
    assert.throws(() => validateParamChanges(resource, spec, { nope: 1 }), { code: 'HALO_E_BAD_REQUEST' });
    assert.throws(() => validateParamChanges(resource, spec, { timeout: { start: 'x' } }), {
      code: 'HALO_E_BAD_REQUEST',
    });
  });
});
