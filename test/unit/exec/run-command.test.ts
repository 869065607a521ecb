import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runCommand } from '../../../src/engine/exec/run-command.js';
import { needPeer } from '../../support/requirements.js';
import { tempDir } from '../../support/temp-dir.js';
import { inEachLaunchMode } from './launch-modes.js';
import { countMarked, killMarked, uniqueSleep, waitFor } from './proc-helpers.js';

const isRoot = process.getuid?.() === 0;

inEachLaunchMode('runCommand', () => {
  it('runs a string through /bin/sh and captures stdout and stderr with the exit code', async () => {
    const result = await runCommand('echo out; echo err >&2; exit 3');
    assert.equal(result.code, 3);
    assert.equal(result.signal, null);
    assert.match(result.output, /out/);
    assert.match(result.output, /err/);
    assert.equal(result.timedOut, false);
    assert.equal(result.aborted, false);
  });

  it('runs an argv list without a shell', async () => {
    const result = await runCommand(['/bin/echo', '$HOME', 'a b']);
    assert.equal(result.code, 0);
    assert.equal(result.output, '$HOME a b\n');
  });

  it('reports a program that does not exist as exit code 127 with the reason', async () => {
    const result = await runCommand(['/nonexistent/halo-test-program']);
    assert.equal(result.code, 127);
    assert.ok(result.spawnError);
    assert.match(result.output, /ENOENT/);
  });

  it('names a missing working directory as the reason a command could not start', async () => {
    const result = await runCommand('true', { cwd: '/nonexistent/halo-dir' });
    assert.equal(result.code, 127);
    assert.equal(result.spawnError, 'working directory /nonexistent/halo-dir does not exist');
  });

  it('passes the given environment and hides the agent’s own HALO_ variables', async () => {
    process.env['HALO_TOKEN'] = 'secret-token';
    try {
      const result = await runCommand('echo "[$HALO_TOKEN][$FOO][$(test -n "$PATH" && echo path)]"', {
        env: { FOO: 'bar' },
      });
      assert.equal(result.output, '[][bar][path]\n');
    } finally {
      delete process.env['HALO_TOKEN'];
    }
  });

  it('runs in the given working directory', async () => {
    const result = await runCommand('pwd', { cwd: '/tmp' });
    assert.equal(result.output.trim(), '/tmp');
  });

  it('keeps only the tail of long output', async () => {
    const result = await runCommand('head -c 100000 /dev/zero | tr "\\0" a; echo; echo THE-END', {
      maxOutputBytes: 1024,
    });
    assert.equal(result.code, 0);
    assert.match(result.output, /bytes dropped/);
    assert.match(result.output, /THE-END\n$/);
    assert.ok(result.output.length < 1200);
  });

  it('kills the whole tree on timeout, including children in another session', async (t) => {
    const a = uniqueSleep();
    const b = uniqueSleep();
    t.after(async () => {
      await killMarked(a);
      await killMarked(b);
    });
    const result = await runCommand(`setsid sleep ${a} & sleep ${b} & echo started; wait`, {
      timeoutMs: 500,
      killGraceMs: 1000,
    });
    assert.equal(result.timedOut, true);
    assert.equal(result.code, null);
    assert.match(result.output, /started/);
    assert.equal(await countMarked(a), 0, 'the setsid child was left running');
    assert.equal(await countMarked(b), 0, 'the background child was left running');
  });

  it('escalates to SIGKILL when the tree ignores SIGTERM', async (t) => {
    const a = uniqueSleep();
    t.after(() => killMarked(a));
    const result = await runCommand(`trap '' TERM; sleep ${a} & wait; wait`, {
      timeoutMs: 300,
      killGraceMs: 300,
    });
    assert.equal(result.timedOut, true);
    assert.equal(result.signal, 'SIGKILL');
    assert.equal(await countMarked(a), 0);
  });

  it('ends the tree when the signal is aborted', async (t) => {
    const a = uniqueSleep();
    t.after(() => killMarked(a));
    const controller = new AbortController();
    const running = runCommand(`sleep ${a} & wait`, { signal: controller.signal });
    assert.ok(await waitFor(async () => (await countMarked(a)) === 1));
    controller.abort();
    const result = await running;
    assert.equal(result.aborted, true);
    assert.equal(result.timedOut, false);
    assert.equal(await countMarked(a), 0);
  });

  it('does not start anything when the signal is already aborted', async () => {
    const result = await runCommand('echo should-not-run', { signal: AbortSignal.abort() });
    assert.equal(result.aborted, true);
    assert.equal(result.output, '');
    assert.equal(result.pid, undefined);
  });

  it('returns when the command exits even if a daemon it started keeps the pipes open', async (t) => {
    const a = uniqueSleep();
    t.after(() => killMarked(a));
    const result = await runCommand(`sleep ${a} & echo launched`, { timeoutMs: 20_000 });
    assert.equal(result.code, 0);
    assert.equal(result.timedOut, false);
    assert.match(result.output, /launched/);
    assert.equal(await countMarked(a), 1, 'a daemon started on purpose must survive');
  });

  it('runs as another user when the agent is root', async (t) => {
    if (!needPeer(t, 'root (to switch users)', isRoot)) return;
    const result = await runCommand('id -u; id -g; echo "$HOME $USER"', { user: 'nobody' });
    assert.equal(result.code, 0, result.output);
    const [uid, gid, envLine] = result.output.trim().split('\n');
    assert.equal(uid, '65534');
    assert.equal(gid, '65534');
    assert.equal(envLine, '/nonexistent nobody');
  });

  it('rejects an unknown user with a clear error', async () => {
    await assert.rejects(runCommand('true', { user: 'halo-no-such-user-x' }), {
      code: 'HALO_E_CONFIG_INVALID',
      message: /does not exist/,
    });
  });

  it('refuses to switch users without root', async (t) => {
    if (!needPeer(t, 'root (to drop to nobody)', isRoot)) return;
    // Run the check itself as nobody, so a non-root process asks to become root. nobody may
    // not be able to read the build (a home directory of mode 700), so it gets a world-readable
    // copy of the modules runCommand needs (they import nothing outside src/engine/exec and
    // src/errors.js, src/util/command-env.js and src/util/line-decoder.js).
    const copy = tempDir(t);
    chmodSync(copy, 0o755);
    const built = fileURLToPath(new URL('../../../src/', import.meta.url));
    cpSync(join(built, 'engine', 'exec'), join(copy, 'engine', 'exec'), { recursive: true });
    cpSync(join(built, 'errors.js'), join(copy, 'errors.js'));
    cpSync(join(built, 'util', 'command-env.js'), join(copy, 'util', 'command-env.js'), {
      recursive: true,
    });
    cpSync(join(built, 'util', 'line-decoder.js'), join(copy, 'util', 'line-decoder.js'));
    for (const d of [join(copy, 'engine'), join(copy, 'engine', 'exec'), join(copy, 'util')])
      chmodSync(d, 0o755);
    const moduleUrl = pathToFileURL(join(copy, 'engine', 'exec', 'run-command.js')).href;
    const script = `import(${JSON.stringify(moduleUrl)}).then((m) => m.runCommand('true', { user: 'root' })).then(
      () => console.log('no error'), (e) => console.log(e.code, e.message));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      uid: 65534,
      gid: 65534,
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    await new Promise((resolve) => child.once('close', resolve));
    assert.match(out, /HALO_E_PERMISSION .*needs root/, out);
  });
});
