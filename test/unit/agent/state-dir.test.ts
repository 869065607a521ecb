import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  LOW_FREE_BYTES,
  probeStateDir,
  type StateDirHealth,
  stateDirLevel,
} from '../../../src/agent/state-dir.js';
import { stateDirResult } from '../../../src/doctor/state-dir.js';

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
