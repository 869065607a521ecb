import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONFIG_PUSH_BODY_LIMIT, DEFAULT_BODY_LIMIT } from '../../../src/api/body-limits.js';
import { openApiDocument } from '../../../src/api/openapi.js';

test('every operation that takes a body documents 413 HALO_E_BODY_TOO_LARGE with its limit', () => {
  const doc = openApiDocument('test') as { paths: Record<string, Record<string, any>> };
  let seen = 0;
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tooLarge = op.responses['413'];
      if (!['post', 'put', 'patch'].includes(method)) {
        assert.equal(tooLarge, undefined, `${method.toUpperCase()} ${path} takes no body`);
        continue;
      }
      seen++;
      assert.ok(tooLarge, `${method.toUpperCase()} ${path} lists 413`);
      assert.deepEqual(tooLarge.content['application/json'].schema, { $ref: '#/components/schemas/Error' });
      const limit = path === '/v1/config' ? CONFIG_PUSH_BODY_LIMIT : DEFAULT_BODY_LIMIT;
      assert.match(tooLarge.description, new RegExp(`HALO_E_BODY_TOO_LARGE .*over ${limit} bytes`));
    }
  }
  assert.ok(seen >= 8, `only ${seen} operations with a body`);
});
