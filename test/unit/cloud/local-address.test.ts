import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { needPeer } from '../../support/requirements.js';

/**
 * The local VIP commands run for real, inside a private network namespace (`unshare -n`)
 * that vanishes with the child process, so the host's interfaces are never touched.
 * Skipped without root or util-linux `unshare`.
 */
const moduleUrl = new URL('../../../src/engine/resources/aws/local-address.js', import.meta.url).href;
const canUnshare =
  process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true'], { stdio: 'ignore' }).status === 0;

test('adding and removing the local VIP are idempotent, and removing from a missing device succeeds', (t) => {
  if (!needPeer(t, 'root and unshare -n (network namespaces)', canUnshare)) return;
  const script = `
      const { addLocalAddress, hasLocalAddress, removeLocalAddress } = await import(${JSON.stringify(moduleUrl)});
      const s = new AbortController().signal;
      const a = { ip: '172.16.0.1', prefix: 32, device: 'lo' };
      const out = [await hasLocalAddress(a, s)];
      await addLocalAddress(a, s); await addLocalAddress(a, s);
      out.push(await hasLocalAddress(a, s));
      await removeLocalAddress(a, s); await removeLocalAddress(a, s);
      out.push(await hasLocalAddress(a, s));
      await removeLocalAddress({ ...a, device: 'nope0' }, s);
      console.log(JSON.stringify(out));
    `;
  const res = spawnSync('unshare', ['-n', process.execPath, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(res.status, 0, res.stderr);
  assert.deepEqual(JSON.parse(res.stdout.trim()), [false, true, false]);
});
