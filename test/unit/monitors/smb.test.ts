import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { credentialsProblem } from '../../../src/engine/monitors/smb/credentials.js';
import { smbMonitor } from '../../../src/engine/monitors/smb/index.js';
import { smbMonitorParams } from '../../../src/engine/monitors/smb/params.js';
import { monitorContext } from './context.js';

/**
 * The parts of the `smb` monitor that need no server: the parameters, the credentials file
 * rules and what a probe says before it runs smbclient. Against a real Samba server:
 * test/lab/smb-monitor.test.ts.
 */

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'halo-smb-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const params = (extra: Record<string, unknown> = {}) =>
  smbMonitorParams.parse({ share: '//fs.example.com/data', credentialsFile: '/etc/halo/fsx.cred', ...extra });

describe('smb monitor parameters', () => {
  it('takes //server/share and \\\\server\\share, and refuses a share without a server or a name', () => {
    assert.equal(params().share, '//fs.example.com/data');
    assert.equal(params({ share: '\\\\fs\\data' }).share, '\\\\fs\\data');
    for (const share of ['fs/data', '//fs', '//fs/', '//fs/data/sub', 'smb://fs/data']) {
      const r = smbMonitorParams.safeParse({ share, credentialsFile: '/c' });
      assert.equal(r.success, false, share);
      assert.match(r.error?.issues[0]?.message ?? '', /expected a share like \/\/fileserver/);
    }
  });

  it('defaults to port 445, no write probe and smbclient from PATH', () => {
    const p = params();
    assert.equal(p.port, 445);
    assert.equal(p.write, false);
    assert.equal(p.smbclient, 'smbclient');
  });

  it('validate names a relative credentials file, a path smbclient cannot quote and a writeDir without write', () => {
    const problems = smbMonitor.validate?.(
      params({ credentialsFile: 'fsx.cred', readFile: 'a;rm x', writeDir: 'probe"s' }),
    );
    assert.deepEqual(problems, [
      ['credentialsFile', 'expected an absolute path (e.g. /etc/halo/fsx.cred)'],
      ['readFile', 'expected a path without `;`, `"` or control characters'],
      ['writeDir', 'expected a path without `;`, `"` or control characters'],
      ['writeDir', 'only used with `write: true`; set it or remove writeDir'],
    ]);
    assert.deepEqual(
      smbMonitor.validate?.(params({ readFile: 'halo/probe.txt', write: true, writeDir: 'x y' })),
      [],
    );
  });
});

describe('smb credentials file', () => {
  it('is accepted with username= and password= lines in either spelling, mode 0600', (t) => {
    const dir = tempDir(t);
    const a = join(dir, 'a');
    writeFileSync(a, 'username=svc\npassword=p=w;d\ndomain=CORP\n', { mode: 0o600 });
    assert.equal(credentialsProblem(a), undefined);
    const b = join(dir, 'b');
    writeFileSync(b, 'username = svc\npassword = secret\n', { mode: 0o600 });
    assert.equal(credentialsProblem(b), undefined);
  });

  it('is refused when other users can read it, naming the file and the fix', (t) => {
    const file = join(tempDir(t), 'cred');
    writeFileSync(file, 'username=svc\npassword=secret\n', { mode: 0o644 });
    assert.equal(
      credentialsProblem(file),
      `SMB credentials file ${file} has mode 0644 and other users can read it; run \`chmod 600 ${file}\``,
    );
  });

  it('is refused without a password line, and the message never quotes the content', (t) => {
    const file = join(tempDir(t), 'cred');
    writeFileSync(file, 'username=svc\npasswd=hunter2-secret\n', { mode: 0o600 });
    const problem = credentialsProblem(file) ?? '';
    assert.match(problem, /has no password= line; expected lines username=NAME, password=SECRET/);
    assert.ok(!problem.includes('hunter2'));
  });
});

describe('smb monitor probe without a server', () => {
  it('fails without running smbclient when the credentials file is missing', async () => {
    const monitor = smbMonitor.create('fsx', params({ credentialsFile: '/nonexistent/halo-fsx.cred' }));
    const result = await monitor.probe(monitorContext());
    assert.equal(result.ok, false);
    assert.match(result.output, /^SMB credentials file \/nonexistent\/halo-fsx\.cred does not exist/);
  });

  it('fails naming the program when smbclient cannot be run', async (t) => {
    const file = join(tempDir(t), 'cred');
    writeFileSync(file, 'username=svc\npassword=secret\n', { mode: 0o600 });
    const monitor = smbMonitor.create(
      'fsx',
      params({ credentialsFile: file, smbclient: '/nonexistent/smbclient', write: true }),
    );
    const result = await monitor.probe(monitorContext());
    assert.equal(result.ok, false);
    assert.match(result.output, /could not run smbclient: .*\/nonexistent\/smbclient/);
  });
});
