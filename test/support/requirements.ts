import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

/**
 * What a test needs from the machine (root, a Debian peer such as etcd or chromium, a kernel
 * feature). `needPeer(t, what, ok)` returns true when the test can go on. When `ok` is false
 * the test fails naming `what` under CI=true, so a CI run cannot go green by skipping it;
 * elsewhere (a developer's laptop) it is skipped with `what` as the reason.
 *
 *   if (!needPeer(t, 'etcd (/usr/bin/etcd)', etcdAvailable())) return;
 *
 * A kernel feature the CI machine kind does not have at all would be the one accepted
 * exception: such a test calls `t.skip` itself, names the feature in the message, and is
 * listed in docs/fault-scenarios.md under "skipped on this machine" (none today: the delay
 * scenarios use a userspace relay instead of the netem qdisc).
 */
export function needPeer(t: TestContext, what: string, ok: boolean): boolean {
  if (ok) return true;
  if (process.env['CI'] === 'true') assert.fail(`missing: ${what} (CI=true: this test must run, not skip)`);
  t.skip(`missing: ${what}`);
  return false;
}
