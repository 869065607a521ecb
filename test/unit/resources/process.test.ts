import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isAlive, killTree } from '../../../src/engine/exec/process-tree.js';
import {
  type ProcessResourceInstance,
  processResource,
} from '../../../src/engine/resources/process/index.js';
import { processParams } from '../../../src/engine/resources/process/params.js';
import type { ResourceContext } from '../../../src/engine/resources/types.js';
import { createLogger } from '../../../src/log.js';
import { needPeer } from '../../support/requirements.js';
import { countMarked, killMarked, uniqueSleep, waitFor } from '../exec/proc-helpers.js';
import { makeContext as baseContext, tempDir } from './context.js';

/**
 * The resource ends every process on the machine that carries its identity (cluster, node,
 * group, resource) in its environment as a stray copy; other test files run programs with the
 * shared test identity, so this file uses a cluster name of its own.
 */
const CLUSTER = `process-test-${process.pid}`;
const makeContext = (overrides: Partial<ResourceContext> = {}) =>
  baseContext({ cluster: CLUSTER, ...overrides });

/** Starts `sleep marker` outside the resource, as an agent of `node` would have started it. */
function strayCopy(marker: string, node = 'n1'): number {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] };
  Object.assign(env, { HALO_CLUSTER: CLUSTER, HALO_NODE: node, HALO_GROUP: 'g1', HALO_RESOURCE: 'r1' });
  const child = spawn('sleep', [marker], { env, detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid!;
}

const isRoot = process.getuid?.() === 0;

function create(input: Record<string, unknown>, t: { after: (fn: () => Promise<void>) => void }) {
  const resource = processResource.create('p1', processParams.parse(input)) as ProcessResourceInstance;
  t.after(async () => {
    const pid = resource.pid();
    if (pid !== undefined) await killTree(pid, 'SIGKILL');
  });
  return resource;
}

describe('process resource', () => {
  it('counts as started after startGrace and stops its whole tree', async (t) => {
    const a = uniqueSleep();
    const b = uniqueSleep();
    t.after(async () => {
      await killMarked(a);
      await killMarked(b);
    });
    const resource = create({ command: `sleep ${a} & setsid sleep ${b} & wait`, startGrace: '200ms' }, t);
    const ctx = makeContext();
    await resource.start(ctx);
    const pid = resource.pid();
    assert.ok(pid !== undefined && isAlive(pid));
    assert.ok(await waitFor(async () => (await countMarked(a)) + (await countMarked(b)) === 2));
    const running = await resource.check(ctx);
    assert.equal(running.state, 'running');
    assert.match(running.reason ?? '', new RegExp(`pid ${pid}`));
    await resource.start(ctx);
    assert.equal(resource.pid(), pid, 'a second start must not spawn another copy');
    await resource.stop(ctx);
    assert.equal(isAlive(pid), false);
    assert.equal(await countMarked(a), 0);
    assert.equal(await countMarked(b), 0);
    assert.equal((await resource.check(ctx)).state, 'stopped');
    await resource.stop(ctx);
  });

  it('fails a start when the program exits during startGrace, with its output and exit code', async (t) => {
    const resource = create({ command: 'echo "config error: port in use" >&2; exit 4', startGrace: '5s' }, t);
    await assert.rejects(
      resource.start(makeContext()),
      (err: { code: string; message: string; details: Record<string, unknown> }) => {
        assert.equal(err.code, 'HALO_E_RESOURCE_START_FAILED');
        assert.match(err.message, /exited with code 4 during start: config error: port in use/);
        assert.equal(err.details['code'], 4);
        return true;
      },
    );
  });

  it('reports a program that cannot be started', async (t) => {
    const resource = create({ command: ['/nonexistent/halo-daemon'] }, t);
    await assert.rejects(resource.start(makeContext()), {
      code: 'HALO_E_RESOURCE_START_FAILED',
      message: /ENOENT/,
    });
  });

  it('counts as started once readyCheck passes', async (t) => {
    const dir = tempDir(t);
    const a = uniqueSleep();
    t.after(() => killMarked(a));
    const resource = create(
      {
        command: `sleep 0.4; touch ${dir}/ready; exec sleep ${a}`,
        readyCheck: `test -f ${dir}/ready`,
        startGrace: '10ms',
        timeout: { start: '20s' },
      },
      t,
    );
    await resource.start(makeContext());
    assert.ok(existsSync(join(dir, 'ready')), 'start returned before readyCheck passed');
    assert.equal((await resource.check(makeContext())).state, 'running');
    await resource.stop(makeContext());
  });

  it('gives up and kills the tree when readyCheck never passes within the start timeout', async (t) => {
    const a = uniqueSleep();
    t.after(() => killMarked(a));
    const resource = create(
      { command: `sleep ${a} & wait`, readyCheck: 'echo not yet; exit 1', timeout: { start: '600ms' } },
      t,
    );
    await assert.rejects(resource.start(makeContext()), {
      code: 'HALO_E_RESOURCE_START_TIMEOUT',
      message: /readyCheck did not pass/,
    });
    assert.equal(await countMarked(a), 0);
  });

  it('kills the tree when the engine aborts the start', async (t) => {
    const a = uniqueSleep();
    t.after(() => killMarked(a));
    const resource = create({ command: `sleep ${a} & wait`, startGrace: '30s' }, t);
    const controller = new AbortController();
    const starting = resource.start(makeContext({ signal: controller.signal }));
    assert.ok(await waitFor(async () => (await countMarked(a)) === 1));
    controller.abort(new Error('start timeout'));
    await assert.rejects(starting, {
      code: 'HALO_E_RESOURCE_CANCELLED',
      message: /cancelled \(start timeout\)/,
    });
    assert.equal(await countMarked(a), 0);
  });

  it('escalates to SIGKILL when the tree ignores the stop signal', async (t) => {
    const a = uniqueSleep();
    t.after(() => killMarked(a));
    const resource = create(
      { command: `trap '' TERM; sleep ${a} & wait; wait`, startGrace: '100ms', timeout: { stop: '400ms' } },
      t,
    );
    await resource.start(makeContext());
    assert.ok(await waitFor(async () => (await countMarked(a)) === 1));
    const started = Date.now();
    await resource.stop(makeContext());
    assert.ok(Date.now() - started >= 350, 'SIGKILL came before the stop timeout');
    assert.equal(await countMarked(a), 0);
    assert.equal((await resource.check(makeContext())).state, 'stopped');
  });

  it('says failed with the exit code and last output after the program died', async (t) => {
    const resource = create(
      { command: 'echo hello; sleep 0.3; echo "fatal: lost disk" >&2; exit 5', startGrace: '50ms' },
      t,
    );
    await resource.start(makeContext());
    assert.ok(await waitFor(async () => (await resource.check(makeContext())).state !== 'running'));
    const result = await resource.check(makeContext());
    assert.equal(result.state, 'failed');
    assert.match(result.reason ?? '', /exited with code 5: fatal: lost disk/);
    assert.match(result.output ?? '', /hello\nfatal: lost disk/);
    assert.equal(resource.pid(), undefined);
    await resource.stop(makeContext());
    assert.equal((await resource.check(makeContext())).state, 'stopped');
  });

  it('logs an unexpected exit with the output file and the last line, never the bulk output', async (t) => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const stateDir = tempDir(t);
    const ctx = makeContext({ log, stateDir });
    // 300 kB of output, then one endless last line: neither may reach the agent's log.
    const command = `sleep 0.3; yes bulk-output-line | head -c 300000; echo; printf 'fatal: %05000d\\n' 0; exit 3`;
    const resource = create({ command, startGrace: '50ms' }, t);
    await resource.start(ctx);
    assert.ok(
      await waitFor(async () => lines.some((l) => l.includes('process exited unexpectedly')), 10_000),
    );
    const line = lines.find((l) => l.includes('process exited unexpectedly'))!;
    assert.ok(line.length < 1024, `the log line is ${line.length} bytes long`);
    const record = JSON.parse(line);
    const outFile = join(stateDir, 'output', 'g1.r1.log');
    assert.equal(record.output, outFile);
    assert.equal(record.code, 3);
    assert.match(record.lastLine, /^fatal: 0+…$/);
    assert.equal(record.lastLine.length, 200);
    assert.ok(!lines.join('').includes('bulk-output-line'), 'no program output in the agent log');
    assert.ok(readFileSync(outFile, 'utf8').length > 300_000, 'the file has the whole output');
    // The status reason quotes the same cut line; the 64 KiB tail stays in `output` for the API.
    const result = await resource.check(ctx);
    assert.match(result.reason ?? '', /exited with code 3: fatal: 0+…$/);
    assert.ok((result.reason ?? '').length < 300);
    await resource.stop(ctx);
  });

  it('hands the deadman helper a kill-tree action for its process group', async (t) => {
    const a = uniqueSleep();
    t.after(() => killMarked(a));
    const resource = create({ command: `sleep ${a} & wait`, startGrace: '100ms', stopSignal: 'SIGINT' }, t);
    assert.deepEqual(resource.fenceActions(), []);
    await resource.start(makeContext());
    const pid = resource.pid();
    assert.deepEqual(resource.fenceActions(), [{ kind: 'kill-tree', pid, signal: 'SIGINT' }]);
  });

  it('runs the program as the configured user', async (t) => {
    if (!needPeer(t, 'root', isRoot)) return;
    const a = uniqueSleep();
    t.after(() => killMarked(a));
    const resource = create({ command: ['sleep', a], user: 'nobody', cwd: '/', startGrace: '100ms' }, t);
    await resource.start(makeContext());
    const pid = resource.pid();
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+65534\s/m);
    await resource.stop(makeContext());
  });

  it('finds a copy it did not start by the environment its programs carry, and stop ends it', async (t) => {
    const a = uniqueSleep();
    const b = uniqueSleep();
    t.after(async () => {
      await killMarked(a);
      await killMarked(b);
    });
    const stray = strayCopy(a);
    strayCopy(b, 'n2');
    assert.ok(await waitFor(async () => (await countMarked(a)) + (await countMarked(b)) === 2));
    const resource = create({ command: `sleep ${a}`, startGrace: '100ms' }, t);
    const ctx = makeContext();
    const found = await resource.check(ctx);
    assert.equal(found.state, 'running');
    assert.match(found.reason ?? '', new RegExp(`not started by this agent: pid ${stray} runs here`));
    assert.match(found.output ?? '', new RegExp(`pid ${stray} \\(process group ${stray}\\): sleep ${a}`));
    assert.doesNotMatch(found.output ?? '', new RegExp(b), "another node's copy is not this node's");
    await resource.stop(ctx);
    assert.equal(await countMarked(a), 0);
    assert.equal(await countMarked(b), 1, "another node's copy is left alone");
    assert.equal((await resource.check(ctx)).state, 'stopped');
  });

  it('start ends a copy it did not start before it spawns its own: one copy only', async (t) => {
    const a = uniqueSleep();
    t.after(() => killMarked(a));
    const stray = strayCopy(a);
    assert.ok(await waitFor(async () => (await countMarked(a)) === 1));
    const resource = create({ command: ['sleep', a], startGrace: '100ms' }, t);
    await resource.start(makeContext());
    assert.equal(isAlive(stray), false);
    assert.equal(await countMarked(a), 1);
    const pid = resource.pid();
    assert.ok(pid !== undefined && pid !== stray && isAlive(pid));
    const own = await resource.check(makeContext());
    assert.match(own.reason ?? '', new RegExp(`pid ${pid} is alive`));
  });
});
