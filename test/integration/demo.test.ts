import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/**
 * `halo demo` end to end, as a user would drive it: wait for "ready", store an object through
 * the stand-in load balancer, move the group, read it back, SIGKILL the owner's agent, read
 * it again, Ctrl-C, and check nothing is left running or listening.
 */

const HALO_CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** Every process the demo causes inherits this; it finds leftovers whatever their command line. */
const MARK_VAR = 'DEMO_TEST_MARK';

interface Banner {
  dir: string;
  s3: string;
  api: Record<string, string>;
  pids: Record<string, number>;
  tokenFile: string;
  tcpPorts: number[];
}

function parseBanner(out: string): Banner {
  const must = (re: RegExp) => {
    const m = re.exec(out);
    assert.ok(m, `demo output lacks ${re}:\n${out}`);
    return m;
  };
  const api: Record<string, string> = {};
  const pids: Record<string, number> = {};
  const tcpPorts: number[] = [];
  for (const m of out.matchAll(
    /agent (n\d)\s+pid (\d+)\s+web UI \+ API (http:\/\/127\.0\.0\.1:(\d+))\/\s+s3rver port (\d+)\s+probe port (\d+)/g,
  )) {
    api[m[1]!] = m[3]!;
    pids[m[1]!] = Number(m[2]);
    tcpPorts.push(Number(m[4]), Number(m[5]), Number(m[6]));
  }
  assert.deepEqual(Object.keys(api).sort(), ['n1', 'n2']);
  const s3 = must(/S3 endpoint: (http:\/\/127\.0\.0\.1:(\d+))/);
  tcpPorts.push(Number(s3[2]));
  return {
    dir: must(/on 127\.0\.0\.1 \((\/[^)]+)\)/)[1]!,
    s3: s3[1]!,
    api,
    pids,
    tokenFile: must(/API token\s+\S+\s+\(file (\S+)\)/)[1]!,
    tcpPorts,
  };
}

function must(m: RegExpExecArray | null): RegExpExecArray {
  assert.ok(m, 'expected a match in the demo output');
  return m;
}

function markedPids(mark: string): number[] {
  const needle = `${MARK_VAR}=${mark}`;
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Ends the demo (or npm) process, then every process carrying its mark, and removes its dir. */
async function cleanUp(child: ChildProcess, mark: string, dir: string | undefined): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (let i = 0; i < 5; i++) {
    for (const pid of markedPids(mark)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    await sleep(50);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000) {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last: ${(last as Error).message})` : ''}`);
}

/** GET through the load balancer; undefined while it fails (e.g. during a failover). */
async function read(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return res.status === 200 ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [HALO_CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b) => (output += b));
    child.stderr.on('data', (b) => (output += b));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

async function ownerOf(api: string, tokenFile: string): Promise<string | undefined> {
  const res = await fetch(`${api}/v1/status`, {
    headers: { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` },
    signal: AbortSignal.timeout(3000),
  });
  const body = (await res.json()) as { groups: Array<{ name: string; owner: string | null }> };
  return body.groups.find((g) => g.name === 'store')?.owner ?? undefined;
}

/** A running `halo demo` whose banner has been printed; cleaned up after the test. */
interface RunningDemo {
  demo: ChildProcess;
  mark: string;
  env: NodeJS.ProcessEnv;
  banner: Banner;
  /** Everything it printed so far, stdout and stderr. */
  out(): string;
  /** Its exit code, or 'timeout' after MS. */
  exit(ms: number): Promise<number | null | 'timeout' | 'cancelled'>;
}

async function startDemo(t: TestContext): Promise<RunningDemo> {
  const mark = randomUUID();
  const env = { ...process.env, [MARK_VAR]: mark };
  let out = '';
  const demo: ChildProcess = spawn(process.execPath, [HALO_CLI, 'demo'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout!.on('data', (b) => (out += b));
  demo.stderr!.on('data', (b) => (out += b));
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  let dir: string | undefined;
  t.after(() => cleanUp(demo, mark, dir));
  await waitFor(
    'the demo to be ready',
    () => {
      if (demo.exitCode !== null) throw new Error(`demo exited early:\n${out}`);
      return out.includes('halo demo is ready') ? true : undefined;
    },
    60_000,
  );
  const banner = parseBanner(out);
  dir = banner.dir;
  return {
    demo,
    mark,
    env,
    banner,
    out: () => out,
    async exit(ms) {
      const giveUp = new AbortController();
      const code = await Promise.race([
        exited,
        sleep(ms, 'timeout' as const, { signal: giveUp.signal }).catch(() => 'cancelled' as const),
      ]);
      giveUp.abort();
      return code;
    },
  };
}

test('the demo serves S3 through the load balancer across a move and an agent kill, and leaves nothing behind', async (t) => {
  const { demo, mark, env, banner, out, exit } = await startDemo(t);
  const object = `${banner.s3}/demo/halo-test.txt`;
  const content = `stored at ${new Date().toISOString()}`;

  // s3rver accepts anonymous path-style requests: no signing needed.
  const put = await fetch(object, { method: 'PUT', body: content, signal: AbortSignal.timeout(5000) });
  assert.equal(put.status, 200, await put.text());
  assert.equal(await read(object), content);

  const first = must(/halo demo is ready: store runs on (n\d)/.exec(out()))[1]!;
  const second = first === 'n1' ? 'n2' : 'n1';
  const auth = ['--api', banner.api['n1']!, '--token-file', banner.tokenFile];
  let before = out().length;
  const moved = await cli(['move', 'store', second, ...auth], env);
  assert.equal(moved.code, 0, moved.output);
  await waitFor(`store to run on ${second}`, async () =>
    (await ownerOf(banner.api['n1']!, banner.tokenFile)) === second &&
    out().slice(before).includes(`probe port open on ${second}`)
      ? true
      : undefined,
  );
  assert.equal(await waitFor('a read after the move', () => read(object)), content);

  const status = await cli(['status', ...auth], env);
  assert.equal(status.code, 0, status.output);
  assert.match(status.output, /store/);

  // The owner's agent dies; its deadman helper stops s3rver and the other node takes over.
  before = out().length;
  process.kill(banner.pids[second]!, 'SIGKILL');
  await waitFor(`the load balancer to switch to ${first}`, () =>
    out().slice(before).includes(`probe port open on ${first}`) ? true : undefined,
  );
  assert.equal(await waitFor('a read after the kill', () => read(object)), content);

  demo.kill('SIGINT');
  const code = await exit(45_000);
  assert.equal(code, 0, `demo exit: ${String(code)}\n${out()}`);
  assert.match(out(), /halo demo: stopped; .* removed/);
  assert.equal(existsSync(banner.dir), false, 'the temp dir is removed');
  assert.deepEqual(markedPids(mark), [], 'no process of the demo is left');
  for (const port of banner.tcpPorts)
    assert.equal(await listening(port), false, `port ${port} still listens`);
});

test('SIGTERM to `npm run demo` stops every process the demo started', async (t) => {
  // npm runs the script with `sh -c`; without `exec` the shell stays in between and npm's
  // SIGTERM never reaches the demo, whose agents then keep running.
  const mark = randomUUID();
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  let out = '';
  const npm = spawn('npm', ['run', 'demo'], {
    cwd: root,
    env: { ...process.env, [MARK_VAR]: mark },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  npm.stdout!.on('data', (b) => (out += b));
  npm.stderr!.on('data', (b) => (out += b));
  let dir: string | undefined;
  t.after(() => cleanUp(npm, mark, dir));
  await waitFor(
    'the demo to be ready',
    () => {
      if (npm.exitCode !== null) throw new Error(`npm run demo exited early:\n${out}`);
      return out.includes('halo demo is ready') ? true : undefined;
    },
    120_000,
  );
  dir = parseBanner(out).dir;
  assert.ok(markedPids(mark).length > 2, 'expected the demo and its agents to be running');
  npm.kill('SIGTERM');
  await waitFor(
    'every demo process to exit',
    () => (markedPids(mark).length === 0 ? true : undefined),
    60_000,
  );
});

test('Ctrl-C three times in a row: the demo exits at once and still leaves nothing behind', async (t) => {
  // The agents run in process groups of their own: an impatient second Ctrl-C used to kill
  // the demo half-way through its stop and leave the cluster and s3rver running.
  const { demo, mark, banner, out, exit } = await startDemo(t);
  assert.ok(markedPids(mark).length > 2, 'expected the demo and its agents to be running');

  // 50 ms apart: well within the orderly stop, which takes a second or more.
  for (let i = 0; i < 3; i++) {
    demo.kill('SIGINT');
    await sleep(50);
  }
  const code = await exit(30_000);
  assert.equal(code, 130, `demo exit: ${String(code)}\n${out()}`);
  assert.match(out(), /halo: stopping; SIGINT once more to exit at once/);
  assert.doesNotMatch(out(), /halo demo: stopped;/, 'the third Ctrl-C came before the orderly stop ended');
  assert.equal(existsSync(banner.dir), false, 'the temp dir is removed');
  assert.deepEqual(markedPids(mark), [], 'no process of the demo is left');
});
