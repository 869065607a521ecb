import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ARTIFACTS } from '../../../src/artifacts/artifacts.js';
import { monitorTypes as monitorSpecs } from '../../../src/engine/monitors/registry.js';
import { resourceTypes as resourceSpecs } from '../../../src/engine/resources/registry.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

for (const [file, render] of Object.entries(ARTIFACTS)) {
  test(`${file} is generated from the schema and up to date (run \`npm run schema\` if this fails)`, () => {
    const committed = readFileSync(repoRoot + file, 'utf8');
    assert.equal(committed, render(), `${file} is stale: run \`npm run schema\` and commit the result`);
  });
}

test('the JSON Schema rejects unknown keys and names every resource and monitor type', () => {
  const schema = JSON.parse(readFileSync(`${repoRoot}schema/halo.schema.json`, 'utf8'));
  assert.equal(schema.additionalProperties, false);
  const text = JSON.stringify(schema);
  for (const type of [...resourceSpecs.keys(), ...monitorSpecs.keys()])
    assert.ok(text.includes(`"const":"${type}"`), type);
});

test('docs/configuration.md documents every top-level section and every type', () => {
  const docs = readFileSync(`${repoRoot}docs/configuration.md`, 'utf8');
  for (const key of [
    'cluster.timing',
    'cluster.keepalive.idle',
    'nodes.NAME.peerPort',
    'witness.port',
    'groups.NAME.autoFailback',
  ]) {
    assert.ok(docs.includes(`\`${key}\``), key);
  }
  for (const type of resourceSpecs.keys()) assert.ok(docs.includes(`### \`${type}\``), type);
  for (const type of monitorSpecs.keys()) assert.ok(docs.includes(`### \`${type}\` monitor`), type);
});
