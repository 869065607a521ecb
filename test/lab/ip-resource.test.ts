import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ipResource } from '../../src/engine/resources/ip/index.js';
import { hasNetAdmin, parseAddresses, sameAddress } from '../../src/engine/resources/ip/ip-command.js';
import { ipParams } from '../../src/engine/resources/ip/params.js';
import { run } from '../lab-kit/exec.js';
import { createNamespace, nextLabPrefix, removeNamespace } from '../lab-kit/netns.js';
import { skipWithoutLab } from './support.js';

/**
 * The `ip` resource against the real kernel. `ip` acts on the namespace of the process, so
 * each test runs fixtures/ip-resource-child.ts inside a throw-away namespace
 * holding a veth pair (eth0 ↔ peer0) with 10.213.0.0/24 addresses, and checks the result
 * from outside with `ip -n`.
 */

const CHILD = fileURLToPath(new URL('./fixtures/ip-resource-child.js', import.meta.url));

describe('ip resource (pure parts)', () => {
  it('reads the effective CAP_NET_ADMIN bit from /proc/self/status', () => {
    assert.equal(hasNetAdmin('CapEff:\t000001ffffffffff\n'), true);
    assert.equal(hasNetAdmin('CapEff:\t0000000000000000\n'), false);
    assert.equal(hasNetAdmin('CapEff:\t0000000000001000\n'), true);
  });

  it('lists the addresses of `ip -j addr show` and compares IPv6 spellings', () => {
    const json = JSON.stringify([
      {
        addr_info: [
          { local: '10.213.0.1', prefixlen: 24 },
          { local: 'FD00::1', prefixlen: 64 },
        ],
      },
    ]);
    assert.deepEqual(parseAddresses(json), ['10.213.0.1/24', 'fd00::1/64']);
    assert.ok(sameAddress('fd00:0:0::0001/64', 'fd00::1/64'));
    assert.ok(!sameAddress('10.213.0.1/24', '10.213.0.1/32'));
  });

  it('rejects an IPv4 prefix over 32 and an interface name the kernel would refuse', () => {
    const params = ipParams.parse({ ip: '10.213.0.9', prefix: 33, device: 'a-very-long-ifname0' });
    const problems = ipResource.validate?.(params) ?? [];
    assert.deepEqual(problems.map(([path]) => path).sort(), ['device', 'prefix']);
  });

  it('gives the deadman helper an ip-del action with the default prefix', () => {
    const r = ipResource.create('vip', ipParams.parse({ ip: '10.213.0.9', device: 'eth0' }));
    assert.deepEqual(r.fenceActions(), [{ kind: 'ip-del', address: '10.213.0.9', prefix: 32, dev: 'eth0' }]);
  });
});

/**
 * `ns` holds eth0; its veth peer sits in `${ns}2`, a separate "host" (in one namespace the
 * kernel would answer ARP for its own address through the peer).
 */
async function withNamespace(t: TestContext): Promise<{ ns: string; other: string }> {
  const ns = `${nextLabPrefix()}ip`;
  const other = `${ns}2`;
  t.after(async () => {
    await removeNamespace(ns);
    await removeNamespace(other);
  });
  await createNamespace(ns);
  await createNamespace(other);
  await run(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0', 'netns', other]);
  await run(['ip', '-n', ns, 'addr', 'add', '10.213.0.1/24', 'dev', 'eth0']);
  await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  await run(['ip', '-n', other, 'addr', 'add', '10.213.0.2/24', 'dev', 'peer0']);
  await run(['ip', '-n', other, 'link', 'set', 'peer0', 'up']);
  return { ns, other };
}

/** Runs `ops` (start/stop/check, in order) on a fresh resource inside `ns`; returns their outcomes. */
function inNamespace(ns: string, ops: string[], params: Record<string, unknown>, prefix: string[] = []) {
  const r = spawnSync(
    prefix[0] ?? 'ip',
    [
      ...prefix.slice(1),
      ...(prefix.length ? ['ip'] : []),
      'netns',
      'exec',
      ns,
      process.execPath,
      CHILD,
      JSON.stringify({ ops, params }),
    ],
    {
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    },
  );
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Array<{
      op: string;
      ok: boolean;
      state?: string;
      reason?: string;
      code?: string;
      message?: string;
    }>;
  } catch {
    throw new Error(`child failed: ${r.stdout}\n${r.stderr}`);
  }
}

const addrs = async (ns: string) =>
  parseAddresses((await run(['ip', '-n', ns, '-j', 'addr', 'show', 'dev', 'eth0'])).stdout);

describe('ip resource (root, in its own namespace)', () => {
  it('start adds the address, check reports it running, stop removes it, and both are idempotent', async (t) => {
    if (skipWithoutLab(t)) return;
    const { ns } = await withNamespace(t);
    const params = { ip: '10.213.0.9', device: 'eth0', arpCount: 1 };
    const out = inNamespace(ns, ['check', 'start', 'start', 'check'], params);
    assert.deepEqual(
      out.map((o) => [o.op, o.ok, o.state ?? o.message]),
      [
        ['check', true, 'stopped'],
        ['start', true, undefined],
        ['start', true, undefined],
        ['check', true, 'running'],
      ],
    );
    assert.ok((await addrs(ns)).includes('10.213.0.9/32'));
    const stopped = inNamespace(ns, ['stop', 'stop', 'check'], params);
    assert.deepEqual(
      stopped.map((o) => [o.op, o.ok, o.state]),
      [
        ['stop', true, undefined],
        ['stop', true, undefined],
        ['check', true, 'stopped'],
      ],
    );
    assert.ok(!(await addrs(ns)).includes('10.213.0.9/32'));
  });

  it('check fails when another host answers ARP for the address', async (t) => {
    if (skipWithoutLab(t)) return;
    const { ns, other } = await withNamespace(t);
    // The host on the other end of the cable holds the same address: a duplicate.
    await run(['ip', '-n', other, 'addr', 'add', '10.213.0.9/32', 'dev', 'peer0']);
    const out = inNamespace(ns, ['start', 'check'], { ip: '10.213.0.9', device: 'eth0', arpCount: 0 });
    assert.equal(out[1]?.state, 'failed');
    assert.match(out[1]?.reason ?? '', /duplicate address/);
  });

  it('a missing interface fails start with a clear message and counts as stopped', async (t) => {
    if (skipWithoutLab(t)) return;
    const { ns } = await withNamespace(t);
    const out = inNamespace(ns, ['start', 'check', 'stop'], { ip: '10.213.0.9', device: 'nosuch0' });
    assert.equal(out[0]?.code, 'HALO_E_INTERFACE_NOT_FOUND');
    assert.match(out[0]?.message ?? '', /interface nosuch0 does not exist/);
    assert.equal(out[1]?.state, 'stopped');
    assert.equal(out[2]?.ok, true);
  });

  it('without CAP_NET_ADMIN start fails with HALO_E_PERMISSION', async (t) => {
    if (skipWithoutLab(t)) return;
    const { ns } = await withNamespace(t);
    // setpriv (util-linux) drops the capability from the bounding set before exec.
    const out = inNamespace(ns, ['start'], { ip: '10.213.0.9', device: 'eth0' }, [
      'setpriv',
      '--bounding-set=-net_admin',
      '--',
    ]);
    assert.equal(out[0]?.code, 'HALO_E_PERMISSION');
    assert.match(out[0]?.message ?? '', /CAP_NET_ADMIN/);
  });
});
