import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCommand } from '../../../src/engine/exec/run-command.js';
import { scriptResource } from '../../../src/engine/resources/script/index.js';
import { scriptParams } from '../../../src/engine/resources/script/params.js';
import { needPeer } from '../../support/requirements.js';
import { countMarked, killMarked, uniqueSleep, waitFor } from '../exec/proc-helpers.js';
import { makeContext, tempDir } from './context.js';

const isRoot = process.getuid?.() === 0;

function create(input: Record<string, unknown>) {
  return scriptResource.create('r1', scriptParams.parse(input));
}

describe('script resource', () => {
  it('runs start and stop with the HALO_ environment and reports the recorded state without a check', async (t) => {
    const dir = tempDir(t);
    const resource = create({
      start: `echo "$HALO_CLUSTER $HALO_NODE $HALO_GROUP $HALO_RESOURCE $HALO_TERM $EXTRA" > ${dir}/env; echo started`,
      stop: `rm -f ${dir}/env`,
      env: { EXTRA: 'x1' },
    });
    const ctx = makeContext();
    assert.equal((await resource.check(ctx)).state, 'stopped');
    await resource.start(ctx);
    assert.equal(readFileSync(join(dir, 'env'), 'utf8'), 'test-cluster n1 g1 r1 42 x1\n');
    const running = await resource.check(ctx);
    assert.equal(running.state, 'running');
    assert.match(running.output ?? '', /started/);
    await resource.stop(ctx);
    assert.equal(existsSync(join(dir, 'env')), false);
    assert.equal((await resource.check(ctx)).state, 'stopped');
    await resource.stop(ctx);
  });

  it('fails a start whose exit code is not a success code, with its output and code', async () => {
    const resource = create({ start: 'echo preparing; echo "disk not mounted" >&2; exit 3', stop: 'true' });
    const ctx = makeContext();
    const error = await resource.start(ctx).then(
      () => assert.fail('start should fail'),
      (err: unknown) => err as { code: string; message: string; details: Record<string, unknown> },
    );
    assert.equal(error.code, 'HALO_E_RESOURCE_START_FAILED');
    assert.match(error.message, /start of resource "r1" exited with code 3: disk not mounted/);
    assert.equal(error.details['code'], 3);
    assert.match(String(error.details['output']), /preparing\ndisk not mounted/);
    const state = await resource.check(ctx);
    assert.equal(state.state, 'failed');
    assert.match(state.reason ?? '', /exit/);
  });

  it('accepts the configured success codes, and only those', async () => {
    const resource = create({ start: 'exit 3', stop: ['/bin/sh', '-c', 'exit 4'], successCodes: [3, 4] });
    const ctx = makeContext();
    await resource.start(ctx);
    assert.deepEqual(await resource.check(ctx), { state: 'running', reason: 'start succeeded', output: '' });
    await resource.stop(ctx);
    assert.equal((await resource.check(ctx)).state, 'stopped');
    // The list replaces the default [0]: exit 0 is now a failure too.
    const strict = create({ start: 'exit 0', stop: 'exit 5', successCodes: [3, 4] });
    await assert.rejects(strict.start(ctx), /start of resource "r1" exited with code 0/);
    await assert.rejects(strict.stop(ctx), /stop of resource "r1" exited with code 5/);
  });

  it('maps the check command’s exit codes to running, stopped and failed', async (t) => {
    const dir = tempDir(t);
    const resource = create({
      start: 'true',
      stop: 'true',
      check: `code=$(cat ${dir}/code); echo "state $code"; exit $code`,
    });
    const ctx = makeContext();
    const checkWith = async (code: number) => {
      await runCommand(`echo ${code} > ${dir}/code`);
      return resource.check(ctx);
    };
    assert.equal((await checkWith(0)).state, 'running');
    assert.equal((await checkWith(7)).state, 'stopped');
    const failed = await checkWith(2);
    assert.equal(failed.state, 'failed');
    assert.match(failed.reason ?? '', /exited with code 2: state 2/);
    assert.equal(failed.output, 'state 2\n');
  });

  it('kills the whole tree of a start that runs past its timeout', async (t) => {
    const marker = uniqueSleep();
    t.after(() => killMarked(marker));
    const resource = create({ start: `sleep ${marker} & wait`, stop: 'true', timeout: { start: '300ms' } });
    await assert.rejects(resource.start(makeContext()), {
      code: 'HALO_E_RESOURCE_START_TIMEOUT',
      message: /within 300ms/,
    });
    assert.equal(await countMarked(marker), 0);
  });

  it('kills the command’s tree when the engine aborts the operation', async (t) => {
    const marker = uniqueSleep();
    t.after(() => killMarked(marker));
    const resource = create({ start: 'true', stop: `trap '' TERM; sleep ${marker} & wait` });
    const controller = new AbortController();
    const stopping = resource.stop(makeContext({ signal: controller.signal }));
    assert.ok(await waitFor(async () => (await countMarked(marker)) === 1));
    controller.abort(new Error('stop timeout'));
    await assert.rejects(stopping, {
      code: 'HALO_E_RESOURCE_CANCELLED',
      message: /cancelled \(stop timeout\)/,
    });
    assert.equal(await countMarked(marker), 0);
    assert.equal((await resource.check(makeContext())).state, 'failed');
  });

  it('runs the commands as the configured user', async (t) => {
    if (!needPeer(t, 'root', isRoot)) return;
    const dir = tempDir(t);
    chmodSync(dir, 0o777);
    const resource = create({ start: `id -u > ${dir}/uid`, stop: 'true', user: 'nobody', cwd: '/' });
    await resource.start(makeContext());
    assert.equal(readFileSync(join(dir, 'uid'), 'utf8'), '65534\n');
  });

  it('gives the deadman helper the stop command as argv with the same environment', async (t) => {
    const dir = tempDir(t);
    const resource = create({
      start: 'true',
      stop: `echo "$HALO_TERM $X" > ${dir}/fenced`,
      env: { X: 'y' },
      cwd: '/tmp',
      timeout: { stop: '7s' },
    });
    await resource.start(makeContext({ term: '99' }));
    const [action] = resource.fenceActions();
    assert.ok(action && action.kind === 'run');
    assert.deepEqual(action.argv, ['/bin/sh', '-c', `echo "$HALO_TERM $X" > ${dir}/fenced`]);
    assert.equal(action.timeoutMs, 7000);
    assert.equal(action.cwd, '/tmp');
    assert.equal(action.env?.['HALO_TERM'], '99');
    const result = await runCommand(action.argv, { env: action.env, cwd: action.cwd });
    assert.equal(result.code, 0);
    assert.equal(readFileSync(join(dir, 'fenced'), 'utf8'), '99 y\n');
  });

  it('wraps the fence command in runuser when a user is configured', async (t) => {
    if (!needPeer(t, 'root', isRoot)) return;
    const resource = create({ start: 'true', stop: ['/usr/bin/id', '-un'], user: 'nobody' });
    const [action] = resource.fenceActions();
    assert.ok(action && action.kind === 'run');
    assert.deepEqual(action.argv, ['runuser', '-u', 'nobody', '--', '/usr/bin/id', '-un']);
    const result = await runCommand(action.argv, { env: action.env });
    assert.equal(result.output.trim(), 'nobody');
  });

  it('applies a changed check command and timeouts live, keeping the rest', async () => {
    const resource = create({ start: 'true', stop: 'true', check: 'exit 0', timeout: { check: '5s' } });
    assert.deepEqual(scriptResource.paramModes, { timeout: 'live', check: 'live' });
    await resource.start(makeContext());
    assert.equal((await resource.check(makeContext())).state, 'running');
    await resource.applyLive?.({ check: 'exit 7' }, makeContext());
    assert.equal((await resource.check(makeContext())).state, 'stopped');
    await resource.applyLive?.({ timeout: { start: 1000, stop: 1000, check: 100 } }, makeContext());
    await resource.applyLive?.({ check: 'sleep 5' }, makeContext());
    const slow = await resource.check(makeContext());
    assert.equal(slow.state, 'failed');
    assert.match(slow.reason ?? '', /within 100ms/);
  });

  it('reports a relative working directory as a problem', () => {
    const problems = scriptResource.validate?.(
      scriptParams.parse({ start: 'a', stop: 'b', cwd: 'relative' }),
    );
    assert.deepEqual(problems, [['cwd', 'expected an absolute path']]);
  });
});
