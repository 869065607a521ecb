import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cli } from '../../support/run-cli.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };

test('halo --version, -V and halo version print the version from package.json', async () => {
  for (const args of [['--version'], ['-V'], ['version']]) {
    const r = await cli(args);
    assert.deepEqual(r, { code: 0, stdout: `halo ${pkg.version}\n`, stderr: '' }, args.join(' '));
  }
});

test('the built halo binary prints its version', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [
    `${root}dist/src/cli/main.js`,
    '--version',
  ]);
  assert.equal(stdout, `halo ${pkg.version}\n`);
});

test('the version command is listed in halo --help', async () => {
  const r = await cli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /halo version +Print the version/);
});
