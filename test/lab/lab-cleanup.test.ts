import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run } from '../lab-kit/exec.js';
import { listNamespaces, sweepStale } from '../lab-kit/netns.js';
import { skipWithoutLab } from './support.js';

/** The lab leaves nothing behind: not on SIGTERM, and not after its creator was SIGKILLed. */

const LAB = fileURLToPath(new URL('../lab-kit/lab.js', import.meta.url));

test('a lab whose process gets SIGTERM removes its namespaces and its directory', async (t) => {
  if (skipWithoutLab(t)) return;
  const script = `const { Lab } = await import(${JSON.stringify(LAB)});
const lab = await Lab.create({ nodes: ['n1'], witness: false });
console.log(JSON.stringify({ prefix: lab.prefix, dir: lab.dir }));
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { prefix, dir } = JSON.parse(line) as { prefix: string; dir: string };
  assert.ok(
    (await listNamespaces()).some((n) => n.startsWith(prefix)),
    'the lab was built',
  );
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 128 + 15);
  assert.deepEqual(
    (await listNamespaces()).filter((n) => n.startsWith(prefix)),
    [],
  );
  assert.equal(existsSync(dir), false);
});

test('namespaces left by a dead creator are swept at the next start', async (t) => {
  if (skipWithoutLab(t)) return;
  // A pid that just exited: nothing runs under it now.
  const dead = spawnSync('true').pid;
  const ns = `halo-${dead}-1-leftover`;
  t.after(() => run(['ip', 'netns', 'del', ns], { allowFail: true }));
  await run(['ip', 'netns', 'add', ns]);
  const swept = await sweepStale();
  assert.ok(swept.includes(ns));
  assert.ok(!(await listNamespaces()).includes(ns));
});
