import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCluster } from '../support/cluster.js';

/**
 * What a resource's process gets from a running agent (issue #19): a clean environment (no
 * AWS_* credentials or other variables of the agent; the HALO_* identity and its own `env:`),
 * a `user:` with its supplementary groups, and the agent's state dir created private (0700).
 */

test('a fresh agent: private state dir, clean resource environment, user with its groups', async (t) => {
  const suffix = String(process.pid % 100000);
  const user = `halot${suffix}`;
  const group = `halotg${suffix}`;
  // A directory the temp user may write its output into.
  const out = mkdtempSync(join(tmpdir(), 'halo-env-out-'));
  chmodSync(out, 0o777);
  t.after(() => rmSync(out, { recursive: true, force: true }));

  const saved = { ...process.env };
  process.env['AWS_SECRET_ACCESS_KEY'] = 'do-not-leak';
  process.env['HALO_ENV_TEST_MARKER'] = 'agent-only';
  process.env['ENV_TEST_MARKER'] = 'agent-only';
  t.after(() => {
    process.env = saved;
  });
  const c = await startCluster(t, {
    nodes: ['n1'],
    witness: false,
    groups: {
      web: {
        nodes: ['n1'],
        resources: {
          dump: {
            type: 'process',
            command: [
              '/bin/sh',
              '-c',
              `env > ${out}/env.tmp && mv ${out}/env.tmp ${out}/env.out; exec sleep 1000`,
            ],
            env: { OWN_SETTING: 'from-config' },
          },
          asuser: {
            type: 'process',
            user,
            cwd: out,
            command: [
              '/bin/sh',
              '-c',
              `id -G > ${out}/groups.tmp && mv ${out}/groups.tmp ${out}/groups.out; exec sleep 1000`,
            ],
          },
        },
      },
    },
  });
  // Removed after the test even when it fails; registered after startCluster's own cleanup, so
  // the user's processes are gone first (userdel refuses a user that still runs a process).
  t.after(() => {
    for (const [cmd, arg] of [
      ['userdel', user],
      ['groupdel', group],
    ] as const) {
      try {
        execFileSync(cmd, [arg], { stdio: 'ignore' });
      } catch {}
    }
  });
  execFileSync('groupadd', [group]);
  execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '-G', group, user]);
  const extraGid = execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]!;
  // The agent is launched with the test's environment (startCluster copies process.env).
  await c.startAgent('n1');
  process.env = saved;

  const mode = statSync(join(c.dir, 'state-n1')).mode & 0o777;
  assert.equal(mode.toString(8), '700', 'the state dir is created private');

  const envText = await c.waitFor('env dumped', () =>
    existsSync(join(out, 'env.out')) ? readFileSync(join(out, 'env.out'), 'utf8') : undefined,
  );
  const env = new Map(
    envText
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  assert.equal(env.get('AWS_SECRET_ACCESS_KEY'), undefined, 'no cloud credentials');
  assert.equal(env.get('ENV_TEST_MARKER'), undefined, 'no variable of the agent');
  assert.equal(env.get('HALO_ENV_TEST_MARKER'), undefined);
  assert.equal(env.get('HALO_NODE'), 'n1');
  assert.equal(env.get('HALO_GROUP'), 'web');
  assert.equal(env.get('HALO_RESOURCE'), 'dump');
  assert.equal(env.get('HALO_CLUSTER'), 'it');
  assert.equal(env.get('OWN_SETTING'), 'from-config');
  assert.equal(env.get('PATH'), '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');

  const groups = await c.waitFor('groups written', () => {
    const file = join(out, 'groups.out');
    const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    return text || undefined;
  });
  assert.ok(groups.split(/\s+/).includes(extraGid), `supplementary group ${extraGid} in "${groups}"`);
});
