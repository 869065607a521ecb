import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { blockDevice } from '../../src/engine/resources/filesystem/device.js';
import { foreignMounts, ownMounts } from '../../src/engine/resources/filesystem/mountinfo.js';
import { missingTools, run } from '../lab-kit/exec.js';
import { Nemesis } from '../lab-kit/nemesis.js';
import type { FaultKind } from '../lab-kit/nemesis-faults.js';
import { nemesisProblems } from '../lab-kit/nemesis-verdict.js';
import { sharedDiskVariant } from '../lab-kit/shared-disk.js';
import { createLoopDisk, loopDiskUnavailable } from '../support/loop-disk.js';
import { needPeer } from '../support/requirements.js';
import { skipWithoutLab } from './support.js';

/**
 * Issue #17 acceptance 1: a loop device as the shared disk of both lab nodes (each agent in a
 * mount namespace of its own), the group mounting it with the `filesystem` resource and the
 * nemesis store, a resource of the same group, appending every write to a file on it. A few
 * nemesis rounds of the faults that move the group, then: never two VIP holders, no
 * acknowledged write missing from the file on the disk, and `fsck -n` finds the file system
 * clean once both nodes have let go of it.
 *
 * The long run is the same test with more rounds (root; minutes per 10 rounds):
 *   HALO_DISK_ROUNDS=100 node --test dist/test/lab/shared-disk.test.js
 */

const ROUNDS = Number(process.env['HALO_DISK_ROUNDS'] ?? 5);
/** Faults that move the group or test that it must not move; repeated in this order. */
const SEQUENCE: FaultKind[] = ['kill', 'crash', 'isolate-owner', 'sigstop', 'partition-nodes'];

test(`shared disk: ${ROUNDS} nemesis rounds with the store on a filesystem resource — one holder, no lost write, a clean fsck`, {
  timeout: 120_000 + ROUNDS * 60_000,
}, async (t) => {
  if (skipWithoutLab(t)) return;
  const why =
    loopDiskUnavailable('ext4') ?? (missingTools(['nsenter']).length ? 'nsenter (util-linux)' : null);
  if (!needPeer(t, why ?? '', why === null)) return;
  const disk = createLoopDisk(`hd${process.pid % 100000}`);
  t.after(() => disk.remove());
  const seed = Number(process.env['HALO_DISK_SEED'] ?? Date.now() % 1_000_000);
  t.diagnostic(`seed ${seed}, device ${disk.device}`);
  const nemesis = new Nemesis({
    rounds: ROUNDS,
    seed,
    sequence: SEQUENCE,
    variant: sharedDiskVariant(disk.device, join(disk.dir, 'mnt')),
    log: (line) => t.diagnostic(line),
  });
  const report = await nemesis.run();
  t.diagnostic(`writes: ${JSON.stringify({ ...report.writes, lost: report.writes.lost.length })}`);
  assert.deepEqual(nemesisProblems(report, ROUNDS), []);
  assert.equal(report.splitBrain.length, 0, 'never two VIP holders');
  assert.deepEqual(report.writes.lost, [], 'no acknowledged write missing from the disk');
  assert.ok(report.writes.acked > 100, `writes were acknowledged (${report.writes.acked})`);
  // Availability: a survivor that failed to mount (the old owner still unmounting) would be
  // marked failed, and every later fault would wait for the dead node to come back.
  const stayed = report.rounds.filter(
    (r) => (r.kind === 'kill' || r.kind === 'crash') && r.ownerAfter === r.ownerBefore,
  );
  assert.deepEqual(
    stayed.map((r) => `round ${r.round} ${r.kind}: stayed on ${r.ownerBefore}`),
    [],
    'the survivor takes the group over after every kill and crash',
  );

  // The lab is gone: its mount namespaces die with their processes and the disk is let go.
  const dev = blockDevice(disk.device);
  assert.ok(typeof dev !== 'string', String(dev));
  const deadline = Date.now() + 15_000;
  while (
    ((await foreignMounts(dev.dev)).length > 0 || (await ownMounts()).some((m) => m.dev === dev.dev)) &&
    Date.now() < deadline
  )
    await sleep(100);
  const fsck = await run(['fsck.ext4', '-n', '-f', disk.device], { allowFail: true, timeoutMs: 60_000 });
  t.diagnostic(`fsck.ext4 -n -f: exit ${fsck.code}\n${fsck.stdout.trim()}`);
  assert.equal(fsck.code, 0, `fsck -n found the file system clean: ${fsck.stdout}${fsck.stderr}`);

  // The records are on the device, not in the directory under the mount point.
  assert.ok(!existsSync(join(disk.dir, 'mnt', 'records.log')), 'nothing was written beside the disk');
  const look = join(disk.dir, 'look');
  mkdirSync(look);
  await run(['mount', '-o', 'ro', disk.device, look]);
  let lines: number;
  try {
    lines = readFileSync(join(look, 'records.log'), 'utf8').split('\n').filter(Boolean).length;
  } finally {
    await run(['umount', look]);
  }
  assert.ok(
    lines >= report.writes.acked,
    `the disk holds ${lines} records for ${report.writes.acked} acknowledged writes`,
  );
});
