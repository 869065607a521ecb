import assert from 'node:assert/strict';
import { test } from 'node:test';
import { didYouMean, editDistance } from '../../../src/cli/did-you-mean.js';

test('editDistance counts insertions, deletions and substitutions', () => {
  assert.equal(editDistance('', ''), 0);
  assert.equal(editDistance('abc', 'abc'), 0);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('token-fil', 'token-file'), 1);
  assert.equal(editDistance('stauts', 'status'), 2);
});

test('didYouMean suggests the closest name only when it looks like a typo', () => {
  assert.equal(didYouMean('token-fiel', ['api', 'config', 'token-file']), 'token-file');
  assert.equal(didYouMean('stauts', ['status', 'groups', 'events']), 'status');
  assert.equal(didYouMean('zzzzzzzz', ['status', 'groups']), undefined);
  assert.equal(didYouMean('x', []), undefined);
});
