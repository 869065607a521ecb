import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir, writePrivate } from '../../support/temp-dir.js';

/**
 * `halo config validate FILE` run as a process, on the rough edges of issue #19: numbers in
 * argument lists, duplicate keys, unknown types, alias bombs, huge files and short keys.
 */

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const halo = `${repoRoot}dist/src/cli/main.js`;

function validate(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [halo, 'config', 'validate', '--json', file],
      { maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

const HEAD = `cluster:
  name: test
  secretFile: cluster.key
nodes:
  n1: { address: 127.0.0.1, peerPort: 17401 }
  n2: { address: 127.0.0.1, peerPort: 17411 }
witness: { address: 127.0.0.1, port: 17402 }
`;

function setup(t: TestContext, text: string, key = 'k'.repeat(64)): string {
  const dir = tempDir(t);
  writePrivate(join(dir, 'cluster.key'), key);
  return writePrivate(join(dir, 'halo.yaml'), text);
}

test('numbers and booleans in a command list are arguments spelled as in the file', async (t) => {
  const file = setup(
    t,
    `${HEAD}groups:
  web:
    nodes: [n1, n2]
    resources:
      srv: { type: process, command: [python3, -m, http.server, 8080, 08, 1e3, 1.50, true] }
`,
  );
  const { code, stdout, stderr } = await validate(file);
  assert.equal(code, 0, stderr);
  const config = JSON.parse(stdout);
  const srv = config.groups[0]?.resources?.[0] ?? config.groups?.web?.resources?.srv;
  assert.deepEqual(srv.command ?? srv.params?.command, [
    'python3',
    '-m',
    'http.server',
    '8080',
    '08',
    '1e3',
    '1.50',
    'true',
  ]);
});

test('a map or null inside a command list names the element and what was expected', async (t) => {
  const file = setup(
    t,
    `${HEAD}groups:
  web:
    nodes: [n1, n2]
    resources:
      srv: { type: process, command: [sleep, { a: 1 }] }
`,
  );
  const { code, stderr } = await validate(file);
  assert.equal(code, 2);
  assert.match(
    stderr,
    /halo\.yaml:12:\d+: groups\.web\.resources\.srv\.command\[1\]: expected a string argument/,
  );
});

test('a duplicate key is reported with its name and the path of the map that repeats it', async (t) => {
  const file = setup(
    t,
    `${HEAD}groups:
  web:
    nodes: [n1, n2]
    resources:
      x: { type: script, start: 'true', stop: 'true' }
      x: { type: script, start: 'true', stop: 'true' }
`,
  );
  const { code, stderr } = await validate(file);
  assert.equal(code, 2);
  assert.ok(
    stderr.includes(`${file}:13:7: groups.web.resources: duplicate key "x"`),
    `duplicate key named with its path in:\n${stderr}`,
  );
});

test('an unknown resource type is echoed with the closest known type', async (t) => {
  const file = setup(
    t,
    `${HEAD}groups:
  web:
    nodes: [n1, n2]
    resources:
      srv: { type: proces, command: [sleep, '100'] }
`,
  );
  const { code, stderr } = await validate(file);
  assert.equal(code, 2);
  assert.match(
    stderr,
    /groups\.web\.resources\.srv\.type: unknown resource type "proces" \(did you mean "process"\?\); expected one of: /,
  );
});

test('an alias expansion bomb is a clear error naming the file, not an internal error', async (t) => {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    lines.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(',')}]`);
  }
  const file = setup(t, `${HEAD}${lines.join('\n')}\n`);
  const { code, stderr } = await validate(file);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /HALO_E_CONFIG_INVALID/);
  assert.ok(stderr.includes(file), stderr);
  assert.match(stderr, /alias/i);
  assert.doesNotMatch(stderr, /internal error|\n\s+at /);
});

test('a file over the size limit is refused before it is parsed', async (t) => {
  const file = setup(t, `${HEAD}# ${'x'.repeat(5 * 1024 * 1024)}\n`);
  const { code, stderr } = await validate(file);
  assert.equal(code, 2);
  assert.match(
    stderr,
    /halo\.yaml: \(top level\): the file is 5\.0 MiB; a configuration may be at most 4 MiB/,
  );
});

test('a config with 40 000 keys still validates (every problem listed)', async (t) => {
  const envLines = Array.from({ length: 40_000 }, (_, i) => `          V${i}: "${i}"`);
  const file = setup(
    t,
    `${HEAD}groups:
  web:
    nodes: [n1, n2]
    resources:
      app:
        type: script
        start: 'true'
        stop: 'true'
        env:
${envLines.join('\n')}
`,
  );
  const { code, stderr } = await validate(file);
  assert.equal(code, 0, stderr.slice(0, 2000));
});

test('a cluster key shorter than the agent accepts is rejected by validate', async (t) => {
  const file = setup(t, `${HEAD}groups: {}\n`, 'short\n');
  const { code, stderr } = await validate(file);
  assert.equal(code, 2);
  assert.match(
    stderr,
    /halo\.yaml:3:15: cluster\.secretFile: cluster key file .* is too short: use at least 16 characters/,
  );
});
