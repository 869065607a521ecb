import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { HALO_CLI, type RunningCluster, startCluster } from '../support/cluster.js';
import { writePrivate } from '../support/temp-dir.js';

/**
 * Acceptance (issue #9): `halo destroy` on a running two-node cluster. Without --yes it only
 * prints the plan; with --yes it stops the groups one by one, each group's resources in
 * reverse order, then every agent deletes its state and exits — no process, no marker file
 * of a resource and no state dir is left. The witness is not part of the teardown.
 */

const script = (name: string, after?: string) => ({
  type: 'script',
  ...(after ? { after: [after] } : {}),
  start: `touch "marker.${name}.$HALO_NODE"`,
  stop: `rm -f "marker.${name}.$HALO_NODE"`,
  check: `test -f "marker.${name}.$HALO_NODE" || exit 7`,
});

const RESOURCES = ['db1', 'db2', 'web1', 'web2', 'web3'];

function runCli(c: RunningCluster, token: string, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, HALO_TOKEN: token };
  delete env['HALO_API'];
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [HALO_CLI, ...args, '-c', c.configFile], { cwd: c.dir, env });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** Pids whose environment holds `needle` (the harness tags every process it starts). */
function pidsWithEnv(needle: string): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(needle)) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      out.push({ pid: Number(pid), cmd });
    } catch {
      // Gone, or not ours.
    }
  }
  return out;
}

function agentTag(c: RunningCluster, node: string): string {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes(join(c.dir, `state-${node}`))) continue;
      const tag = readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .find((e) => e.startsWith('HALOTEST_TAG='));
      if (tag) return tag;
    } catch {
      // Not this one.
    }
  }
  assert.fail(`no agent process for ${node}`);
}

const markers = (c: RunningCluster) => readdirSync(c.dir).filter((f) => f.startsWith('marker.'));

test('destroy prints the plan and changes nothing without --yes; with --yes it stops groups in reverse resource order and leaves no process, marker or state dir', async (t) => {
  const c = await startCluster(t, {
    nodes: ['n1', 'n2'],
    groups: {
      db: { nodes: ['n1', 'n2'], resources: { db1: script('db1'), db2: script('db2', 'db1') } },
      web: {
        nodes: ['n2', 'n1'],
        resources: { web1: script('web1'), web2: script('web2', 'web1'), web3: script('web3', 'web2') },
      },
    },
  });
  // One token for both agents, as `cluster.api.tokenFile` would give: destroy talks to every node.
  const token = randomBytes(24).toString('hex');
  for (const n of ['n1', 'n2']) {
    mkdirSync(join(c.dir, `state-${n}`), { recursive: true });
    writePrivate(join(c.dir, `state-${n}`, 'api.token'), `${token}\n`);
  }
  await c.startAgent('n1');
  await c.startAgent('n2');
  await c.waitFor('every resource running', () => markers(c).length === RESOURCES.length, 30_000);
  const tag = agentTag(c, 'n1');

  const dry = await runCli(c, token, ['destroy']);
  assert.equal(dry.code, 2, dry.out);
  assert.match(dry.out, /1\. stop group web \(running on n\d\): resources web3, then web2, then web1/);
  assert.match(dry.out, /2\. stop group db \(running on n\d\): resources db2, then db1/);
  assert.match(dry.out, /Nothing was changed/);
  assert.equal(markers(c).length, RESOURCES.length, 'no resource was stopped');
  assert.ok(existsSync(join(c.dir, 'state-n1')) && existsSync(join(c.dir, 'state-n2')));
  const owners = (await c.status('n1')).groups.map((g: { owner: string | null }) => g.owner);
  assert.ok(owners.length === 2 && owners.every((o: string | null) => o !== null), 'both groups still owned');

  const real = await runCli(c, token, ['destroy', '--yes']);
  assert.equal(real.code, 0, real.out);
  const stopped = [...real.out.matchAll(/^ {2}n\d: \w+\/(\w+): \w+ stopped$/gm)].map((m) => m[1]);
  assert.deepEqual(stopped, ['web3', 'web2', 'web1', 'db2', 'db1'], real.out);
  assert.match(real.out, /cluster destroyed/);

  await c.waitFor('agents and their helpers gone', () =>
    pidsWithEnv(tag).every((p) => p.cmd.includes(' witness ')),
  );
  assert.deepEqual(markers(c), [], 'no marker is left');
  assert.ok(!existsSync(join(c.dir, 'state-n1')), 'state-n1 deleted');
  assert.ok(!existsSync(join(c.dir, 'state-n2')), 'state-n2 deleted');
  assert.ok(existsSync(c.configFile), 'the config file is kept without --purge');
  assert.ok(existsSync(join(c.dir, 'cluster.key')), 'the key is kept without --purge');
});
