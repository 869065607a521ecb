import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ensureStateDir,
  LOW_FREE_BYTES,
  probeStateDir,
  type StateDirHealth,
  stateDirLevel,
} from '../../../src/agent/state-dir.js';
import { checkStateDir, stateDirResult } from '../../../src/doctor/state-dir.js';

const health = (over: Partial<StateDirHealth>): StateDirHealth => ({
  dir: '/var/lib/halo/n1',
  writable: true,
  error: null,
  freeBytes: 10 * 1024 ** 3,
  totalBytes: 20 * 1024 ** 3,
  level: 'ok',
  checkedAt: '2026-12-04T17:00:00.000Z',
  ...over,
});

describe('state directory health', () => {
  it('a refused probe write is "full" for ENOSPC or a quota and "unwritable" for anything else', () => {
    assert.equal(stateDirLevel({ writable: false, error: 'ENOSPC', freeBytes: 0 }), 'full');
    assert.equal(stateDirLevel({ writable: false, error: 'EDQUOT', freeBytes: 1e9 }), 'full');
    assert.equal(stateDirLevel({ writable: false, error: 'EROFS', freeBytes: 1e9 }), 'unwritable');
    assert.equal(stateDirLevel({ writable: false, error: 'EIO', freeBytes: null }), 'unwritable');
  });

  it('a writable directory is "full" below one page, "low" below the threshold, else "ok"', () => {
    assert.equal(stateDirLevel({ writable: true, error: null, freeBytes: 0 }), 'full');
    assert.equal(stateDirLevel({ writable: true, error: null, freeBytes: LOW_FREE_BYTES - 1 }), 'low');
    assert.equal(stateDirLevel({ writable: true, error: null, freeBytes: LOW_FREE_BYTES }), 'ok');
    assert.equal(stateDirLevel({ writable: true, error: null, freeBytes: null }), 'ok');
  });

  it('the probe of a writable directory reports it writable with its free space and leaves no file', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'halo-statedir-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const h = await probeStateDir(dir, 0);
    assert.equal(h.writable, true);
    assert.equal(h.error, null);
    assert.equal(h.level, 'ok');
    assert.ok((h.freeBytes ?? 0) > 0 && (h.totalBytes ?? 0) >= (h.freeBytes ?? 0));
    assert.deepEqual(readdirSync(dir), []);
  });

  it('the probe of a missing directory reports ENOENT as unwritable', async () => {
    const h = await probeStateDir('/nonexistent/halo-state-dir-test');
    assert.equal(h.writable, false);
    assert.equal(h.error, 'ENOENT');
    assert.equal(h.level, 'unwritable');
  });
});

describe('halo doctor: the state-dir check', () => {
  it('fails for a full or unwritable directory and names the cause, warns when space is low or it is missing', () => {
    const full = stateDirResult(health({ writable: false, error: 'ENOSPC', freeBytes: 0, level: 'full' }));
    assert.equal(full.id, 'state-dir');
    assert.equal(full.status, 'fail');
    assert.match(full.message, /is full \(ENOSPC/);
    assert.ok(full.fix?.some((f) => f.startsWith('df -h /var/lib/halo/n1')));

    const ro = stateDirResult(health({ writable: false, error: 'EROFS', level: 'unwritable' }));
    assert.equal(ro.status, 'fail');
    assert.match(ro.message, /cannot be written \(EROFS\)/);

    const low = stateDirResult(health({ freeBytes: 1024 * 1024, level: 'low' }));
    assert.equal(low.status, 'warn');
    assert.match(low.message, /little space left \(1\.0 MiB free\)/);

    const missing = stateDirResult(
      health({ writable: false, error: 'ENOENT', freeBytes: null, level: 'unwritable' }),
    );
    assert.equal(missing.status, 'warn');
    assert.match(missing.message, /does not exist yet/);

    const ok = stateDirResult(health({}));
    assert.equal(ok.status, 'pass');
    assert.match(ok.message, /is writable \(10\.0 GiB free\)/);
  });
});

describe('the state directory is private', () => {
  it('is created 0700 with its parents whatever the umask; an existing 0755 one is kept and doctor warns', async (t) => {
    const base = mkdtempSync(join(tmpdir(), 'halo-sd-'));
    t.after(() => rmSync(base, { recursive: true, force: true }));
    const previous = process.umask(0o022);
    t.after(() => process.umask(previous));
    const dir = join(base, 'a', 'n1');
    assert.deepEqual(ensureStateDir(dir), { created: true, mode: 0o700 });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal((await checkStateDir(dir)).status, 'pass');

    chmodSync(dir, 0o755);
    assert.deepEqual(ensureStateDir(dir), { created: false, mode: 0o755 });
    const doctor = await checkStateDir(dir);
    assert.equal(doctor.status, 'warn');
    assert.match(doctor.message, /has mode 0755: other users may list or read it/);
    assert.deepEqual(doctor.fix, [`chmod 700 ${dir}`]);
  });
});
