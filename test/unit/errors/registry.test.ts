import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderErrorDocs } from '../../../src/artifacts/error-docs.js';
import { ERRORS, type ErrorCode, HaloError } from '../../../src/errors.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const codes = Object.keys(ERRORS) as ErrorCode[];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('every error code is well formed and says what happened, what to do, its kind and status', () => {
  for (const code of codes) {
    const e = ERRORS[code];
    assert.match(code, /^HALO_E_[A-Z][A-Z0-9_]*[A-Z0-9]$/, code);
    assert.ok(e.summary.length > 10 && e.next.length > 10, `${code} needs a summary and a next step`);
    assert.ok(['user', 'operational', 'internal'].includes(e.kind), code);
    assert.ok(e.httpStatus >= 400 && e.httpStatus <= 599, `${code}: HTTP status ${e.httpStatus}`);
    assert.equal(new HaloError(code, 'x').httpStatus, e.httpStatus);
  }
});

test('no two codes share a summary, so each names one situation', () => {
  const seen = new Map<string, string>();
  for (const code of codes) {
    const other = seen.get(ERRORS[code].summary);
    assert.equal(other, undefined, `${code} and ${other} have the same summary`);
    seen.set(ERRORS[code].summary, code);
  }
});

test('every code in the registry is raised somewhere in src/ and every code raised is registered', () => {
  const text = sources(`${repoRoot}src`)
    .filter((f) => !f.endsWith(`${join('src', 'errors.ts')}`))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  for (const code of codes) assert.ok(text.includes(`'${code}'`), `${code} is never raised: remove it`);
  // A quoted code that is not registered would not compile where it is thrown, but a typo in a
  // comparison or a message would; the registry is the only source of codes.
  const quoted = new Set(text.match(/'HALO_E_[A-Z0-9_]+'/g)?.map((q) => q.slice(1, -1)) ?? []);
  for (const code of quoted) assert.ok(code in ERRORS, `${code} is used in src/ but not registered`);
});

test('docs/errors.md documents every code and is up to date (run `npm run schema` if this fails)', () => {
  const committed = readFileSync(`${repoRoot}docs/errors.md`, 'utf8');
  for (const code of codes)
    assert.ok(committed.includes(`\n## ${code}\n`), `${code} missing from docs/errors.md`);
  assert.equal(
    committed,
    renderErrorDocs(),
    'docs/errors.md is stale: run `npm run schema` and commit the result',
  );
});
