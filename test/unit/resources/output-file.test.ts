import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OutputFile } from '../../../src/engine/resources/process/output-file.js';

test('an output file rotates past its size, keeping one older file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'halo-output-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'output', 'web.p.log');
  const file = new OutputFile(path, 100);
  for (let i = 0; i < 30; i++) file.write(Buffer.from(`line ${String(i).padStart(3, '0')}\n`));
  file.close();
  assert.ok(statSync(path).size <= 100);
  assert.ok(statSync(`${path}.1`).size <= 100);
  assert.match(readFileSync(path, 'utf8'), /line 029\n$/);
  assert.ok(!existsSync(`${path}.2`));
  assert.equal(statSync(path).mode & 0o777, 0o600);
});
