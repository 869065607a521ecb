import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { HALO_CLI } from '../support/cluster.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * What a `halo` process loads, seen through a module-resolution hook that appends every
 * module of dist/src it resolves to a file: a call that names its agent with --api must not
 * load the config catalog or the agent, and `halo version` nothing but itself.
 */
async function loadedModules(
  t: TestContext,
  args: string[],
): Promise<{ code: number | null; modules: string[] }> {
  const list = join(tempDir(t, 'halo-lazy-'), 'loaded.txt');
  const hook = `import { appendFileSync } from 'node:fs';
export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  const at = r.url.indexOf('/dist/src/');
  if (at >= 0) appendFileSync(${JSON.stringify(list)}, r.url.slice(at + 10) + '\\n');
  return r;
}`;
  const register = `import { register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(register)}`, HALO_CLI, ...args],
      { env: { PATH: process.env['PATH'] ?? '' }, stdio: 'ignore' },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const modules = [...new Set(readFileSync(list, 'utf8').split('\n').filter(Boolean))];
  return { code, modules };
}

test('halo status --api loads neither the config catalog nor the agent', async (t) => {
  // Port 9 (discard) on loopback: nothing answers, so the call fails after loading what it needs.
  const { code, modules } = await loadedModules(t, ['status', '--api', 'http://127.0.0.1:9']);
  assert.equal(code, 1);
  assert.ok(modules.includes('cli/commands/status.js'), modules.join(' '));
  for (const heavy of [
    'engine/config-catalog.js',
    'agent/agent.js',
    'api/server.js',
    'cli/commands/index.js',
  ])
    assert.ok(!modules.includes(heavy), `${heavy} loaded: ${modules.join(' ')}`);
});

test('halo version loads only the CLI frame and the version command', async (t) => {
  const { code, modules } = await loadedModules(t, ['version']);
  assert.equal(code, 0);
  assert.ok(modules.includes('cli/commands/version.js'), modules.join(' '));
  assert.ok(modules.length < 12, `${modules.length} modules: ${modules.join(' ')}`);
});

test('halo --help still loads every command (the list names them all)', async (t) => {
  const { code, modules } = await loadedModules(t, ['--help']);
  assert.equal(code, 0);
  assert.ok(modules.includes('cli/commands/index.js'), modules.join(' '));
});
