import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { HALO_CLI, startCluster } from '../support/cluster.js';
import { freePort } from '../support/ports-and-processes.js';
import { tempDir, writePrivate } from '../support/temp-dir.js';

/**
 * Rough edges of the CLI as a user meets them (issue #19): each test runs the built `halo`
 * binary as a process and reads what it prints and how it exits.
 */

function run(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  return new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn(process.execPath, [HALO_CLI, ...args], {
        cwd: opts.cwd,
        env: { ...withoutHaloVars(process.env), ...opts.env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.stderr.on('data', (b) => (stderr += b));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    },
  );
}

function withoutHaloVars(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'HALO_TOKEN' && k !== 'HALO_API'));
}

/** A config whose nodes have addresses no machine running the tests has (TEST-NET-2 style). */
async function foreignConfig(t: import('node:test').TestContext): Promise<{ dir: string; file: string }> {
  const dir = tempDir(t, 'halo-cli-edges-');
  writePrivate(join(dir, 'cluster.key'), 'k'.repeat(48));
  const config = {
    cluster: { name: 'it', secretFile: 'cluster.key', timing: 'fast' },
    nodes: {
      n1: { address: '198.51.100.11', peerPort: await freePort(), apiPort: await freePort() },
      n2: { address: '198.51.100.12', peerPort: await freePort(), apiPort: await freePort() },
    },
    witness: { address: '127.0.0.1', port: await freePort() },
    groups: { web: { nodes: ['n1', 'n2'], resources: { p: { type: 'process', command: 'sleep 1000' } } } },
  };
  const file = join(dir, 'halo.yaml');
  writeFileSync(file, stringify(config));
  return { dir, file };
}

test('an agent that cannot bind its node address exits non-zero with HALO_E_LISTEN_FAILED', async (t) => {
  const { dir, file } = await foreignConfig(t);
  const r = await run(['agent', '-c', file, '--node', 'n1', '--state-dir', join(dir, 'state')], { cwd: dir });
  assert.equal(r.signal, null, `the agent kept running after its bind failed:\n${r.stdout}${r.stderr}`);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /error HALO_E_LISTEN_FAILED: cannot listen on 198\.51\.100\.11:\d+ \(EADDRNOTAVAIL\)/,
  );
});

test('halo status -c FILE on a machine that is no node asks for --node NAME', async (t) => {
  const { dir, file } = await foreignConfig(t);
  const r = await run(['status', '-c', file], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /this machine is not one of the nodes of .*halo\.yaml.*pass --node NAME/);
  const named = await run(['status', '-c', file, '--node', 'n9'], { cwd: dir });
  assert.equal(named.code, 2);
  assert.match(named.stderr, /--node n9 is not a node of .* \(nodes: n1, n2\)/);
});

test('a missing --token-file is named in the error, not an internal ENOENT', async () => {
  const r = await run(['status', '--api', 'http://127.0.0.1:9', '--token-file', '/nonexistent/token']);
  assert.equal(r.code, 2, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.match(
    r.stderr,
    /HALO_E_SECRET: cannot read the token file \/nonexistent\/token given with --token-file \(ENOENT\)/,
  );
});

test('a mistyped option or command gets a did-you-mean and a pointer to --help', async () => {
  const opt = await run(['status', '--token-fiel', 'x']);
  assert.equal(opt.code, 2);
  assert.match(opt.stderr, /unknown option --token-fiel \(did you mean --token-file\?\); run with --help/);
  assert.doesNotMatch(opt.stderr, /To specify a positional argument/);
  const cmd = await run(['stauts']);
  assert.equal(cmd.code, 2);
  assert.match(cmd.stderr, /unknown command "stauts"\. Did you mean `halo status`\? Run `halo --help`/);
});

test('agent logs never repeat a key nor warn about --expose_wasm; a wrong token tells the CLI user about --token-file', async (t) => {
  const c = await startCluster(t, {
    nodes: ['n1'],
    witness: false,
    groups: {
      web: {
        nodes: ['n1'],
        resources: {
          p: {
            type: 'process',
            command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "chatty line $i"; sleep 0.05; done'],
          },
        },
        monitors: { alive: { type: 'script', target: 'p', command: 'true', interval: '300ms' } },
      },
    },
  });
  await c.startAgent('n1');
  await c.waitFor('web running', async () => (await c.status('n1')).groups[0]?.state === 'running');

  const r = await run(['status', '--api', `http://127.0.0.1:${c.ports['n1']!.api}`], {
    env: { HALO_TOKEN: 'wrong' },
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /HALO_E_UNAUTHORIZED: .*pass --token-file FILE .* or set HALO_TOKEN/);
  assert.doesNotMatch(r.stderr, /Authorization: Bearer/);

  // The deadman helper runs with --lite-mode (implies --jitless); node then warns at every start.
  assert.doesNotMatch(c.logs('n1'), /expose_wasm/);

  // A process resource's output goes to STATE_DIR/output/GROUP.RESOURCE.log, not the agent log.
  const outFile = join(c.dir, 'state-n1', 'output', 'web.p.log');
  await c.waitFor(
    'program output in its file',
    () => existsSync(outFile) && /chatty line 3/.test(readFileSync(outFile, 'utf8')),
  );
  assert.doesNotMatch(c.logs('n1'), /chatty line/);
  assert.match(c.logs('n1'), /"msg":"process spawned"/);
  assert.ok(c.logs('n1').includes(outFile), 'the agent log names the output file');

  // JSON.parse keeps the last of two equal keys, so count keys in the raw text.
  const lines = c
    .logs('n1')
    .split('\n')
    .filter((l) => l.startsWith('{'));
  assert.ok(lines.length >= 3, `expected agent log lines, got:\n${c.logs('n1').slice(0, 2000)}`);
  for (const line of lines) {
    for (const key of ['resource', 'component', 'node', 'group', 'name', 'monitor']) {
      const count = line.split(`"${key}":`).length - 1;
      assert.ok(count <= 1, `"${key}" appears ${count} times in: ${line}`);
    }
  }
});

test('a program that prints a lot and dies leaves one short agent log line naming its output file', async (t) => {
  const c = await startCluster(t, {
    nodes: ['n1'],
    witness: false,
    groups: {
      web: {
        nodes: ['n1'],
        resources: {
          p: {
            type: 'process',
            // 400 kB of output, then the line that says why, then an exit nobody asked for.
            command: [
              'sh',
              '-c',
              'sleep 0.5; yes bulk-output-line | head -c 400000; echo; echo "fatal: lost the disk"; exit 3',
            ],
            startGrace: '100ms',
          },
        },
      },
    },
  });
  await c.startAgent('n1');
  const line = await c.waitFor('the unexpected exit logged', () =>
    c
      .logs('n1')
      .split('\n')
      .find((l) => l.includes('"msg":"process exited unexpectedly"')),
  );
  assert.ok(line.length < 1024, `the log line is ${line.length} bytes long:\n${line.slice(0, 300)}…`);
  const record = JSON.parse(line);
  const outFile = join(c.dir, 'state-n1', 'output', 'web.p.log');
  assert.equal(record.output, outFile);
  assert.equal(record.code, 3);
  assert.equal(record.lastLine, 'fatal: lost the disk');
  assert.doesNotMatch(c.logs('n1'), /bulk-output-line/);
  assert.match(readFileSync(outFile, 'utf8'), /bulk-output-line\n[\s\S]*fatal: lost the disk\n/);
});
