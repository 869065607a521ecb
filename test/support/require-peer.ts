import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

/**
 * One rule for tests that depend on something outside the code under test (root, a real peer
 * program such as HAProxy or etcd, a kernel feature such as the cgroup freezer):
 *
 * - present: the test runs (`needPeer` returns true);
 * - missing on a developer machine: the test is skipped, and the skip names what is missing;
 * - missing under CI (`CI=true`): the test FAILS, naming what is missing, because a skip in
 *   CI would hide that the behaviour was never checked.
 *
 * Usage: `if (!needPeer(t, 'root (network namespaces)', process.getuid?.() === 0)) return;`
 *
 * The one accepted exception is a kernel feature the CI machine kind does not have at all
 * (the netem qdisc): such a test calls `t.skip` itself, names the feature in the message,
 * and is listed in docs/fault-scenarios.md under "skipped on this machine".
 */
export function needPeer(t: TestContext, what: string, ok: boolean): boolean {
  if (ok) return true;
  if (process.env['CI'] === 'true') assert.fail(`missing ${what}; under CI=true this test must run`);
  t.skip(`missing ${what}`);
  return false;
}
