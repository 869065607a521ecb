import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { commandFenceDevice } from '../../src/engine/fencing/command-device.js';
import { silentLogger } from '../../src/log.js';
import { freePort } from '../support/ports-and-processes.js';
import { needPeer } from '../support/requirements.js';
import { tempDir, writePrivate } from '../support/temp-dir.js';

/**
 * The `command` fence device with a real fence agent: Debian's fence_ipmilan (fence-agents,
 * through ipmitool) against OpenIPMI's BMC simulator ipmi_sim on a loopback UDP port. The
 * simulated chassis powers a stand-in "node" (a sleep process): its chassis_control script
 * reads the power state from whether that process lives and powers off by killing it, so
 * "OFF" is only reported once the node is really gone.
 */

const PASSWORD = 'fence-S3cret-pw';
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const peersOk = existsSync('/usr/sbin/fence_ipmilan') && have('ipmitool') && have('ipmi_sim');
const MISSING = 'fence_ipmilan (fence-agents), ipmitool and ipmi_sim (openipmi)';

interface Bmc {
  port: number;
  dir: string;
  /** The node the BMC powers; null once killed. */
  node: ChildProcess;
  calls(): string[];
}

/** `powerOff: 'works'` kills the node; `'ignored'` accepts the request and leaves it running. */
async function startBmc(t: TestContext, powerOff: 'works' | 'ignored'): Promise<Bmc> {
  const dir = tempDir(t, 'halo-ipmi-');
  const port = await freePort();
  const node = spawn('sleep', ['100000'], { stdio: 'ignore' });
  t.after(() => node.kill('SIGKILL'));
  writeFileSync(join(dir, 'node.pid'), String(node.pid));
  const chassis = join(dir, 'chassis.sh');
  // ipmi_sim runs: chassis.sh <mc> get power → prints power:0|1; chassis.sh <mc> set power 0.
  writeFileSync(
    chassis,
    `#!/bin/sh
echo "$2 $3 $4" >> ${dir}/calls
pid=$(cat ${dir}/node.pid)
case "$2" in
get) if kill -0 "$pid" 2>/dev/null; then echo power:1; else echo power:0; fi ;;
set) if [ "$3" = power ] && [ "$4" = 0 ] && [ ${powerOff === 'works' ? 1 : 0} = 1 ]; then kill -9 "$pid"; fi ;;
esac
`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(dir, 'lan.conf'),
    `name "halo_bmc"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${chassis} 0x20"
  user 2 true "admin" "${PASSWORD}" admin 10 none md2 md5 straight
`,
  );
  writeFileSync(
    join(dir, 'cmds.emu'),
    'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n',
  );
  const sim = spawn('ipmi_sim', ['-c', 'lan.conf', '-f', 'cmds.emu', '-s', dir, '-n'], {
    cwd: dir,
    stdio: 'ignore',
  });
  t.after(() => sim.kill('SIGKILL'));
  // Ready once it answers a status read.
  for (let i = 0; ; i++) {
    const r = spawnSync(
      'ipmitool',
      [
        '-I',
        'lanplus',
        '-C',
        '3',
        '-H',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'admin',
        '-E',
        'chassis',
        'power',
        'status',
      ],
      {
        env: { ...process.env, IPMI_PASSWORD: PASSWORD },
        encoding: 'utf8',
      },
    );
    if (/Chassis Power is on/.test(r.stdout)) break;
    if (i > 50) throw new Error(`ipmi_sim did not answer: ${r.stdout}${r.stderr}`);
    await sleep(100);
  }
  const calls = () =>
    existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : [];
  return { port, dir, node, calls };
}

function device(bmc: Bmc, passwordFile: string, extra: Record<string, string> = {}) {
  return commandFenceDevice(
    {
      type: 'command',
      agent: '/usr/sbin/fence_ipmilan',
      options: { ip: '127.0.0.1', username: 'admin', lanplus: '1', cipher: '3', ...extra },
      nodes: { n1: { ipport: String(bmc.port) } },
      passwordFile,
    },
    { group: 'web', log: silentLogger },
  );
}

describe('command fence device: fence_ipmilan against ipmi_sim', () => {
  test('powers the node off through the stdin protocol and returns only once status reads OFF', async (t) => {
    if (!needPeer(t, MISSING, peersOk)) return;
    const bmc = await startBmc(t, 'works');
    const pw = writePrivate(join(bmc.dir, 'fence.pass'), `${PASSWORD}\n`);
    const exited = new Promise((r) => bmc.node.once('exit', r));
    const result = await device(bmc, pw).fence('n1', AbortSignal.timeout(60_000));
    assert.match(result.detail, /reports n1 OFF/);
    await exited;
    // The BMC was asked to power off, and Halo's own status read came after it and saw power:0.
    const calls = bmc.calls();
    const off = calls.indexOf('set power 0');
    assert.ok(off >= 0, JSON.stringify(calls));
    assert.ok(calls.slice(off + 1).includes('get power'), JSON.stringify(calls));
  });

  test('a BMC that accepts the off but leaves the node on fails the fence', async (t) => {
    if (!needPeer(t, MISSING, peersOk)) return;
    const bmc = await startBmc(t, 'ignored');
    const pw = writePrivate(join(bmc.dir, 'fence.pass'), PASSWORD);
    await assert.rejects(
      device(bmc, pw, { power_timeout: '2' }).fence('n1', AbortSignal.timeout(60_000)),
      /fence_ipmilan action=off for n1 failed \(exit code 1\)/,
    );
    assert.equal(bmc.node.exitCode, null);
    assert.equal(bmc.node.signalCode, null);
  });

  test('a wrong password fails, and the error never shows the password', async (t) => {
    if (!needPeer(t, MISSING, peersOk)) return;
    const bmc = await startBmc(t, 'works');
    const pw = writePrivate(join(bmc.dir, 'fence.pass'), 'not-the-password');
    const err = await device(bmc, pw)
      .fence('n1', AbortSignal.timeout(60_000))
      .then(
        () => assert.fail('fenced with a wrong password'),
        (e: Error) => e,
      );
    assert.match(err.message, /fence_ipmilan action=off for n1 failed/);
    assert.ok(!err.message.includes('not-the-password'));
    assert.equal(bmc.node.exitCode, null);
  });

  test('a password file other users can read is refused before the agent runs', async (t) => {
    if (!needPeer(t, MISSING, peersOk)) return;
    const bmc = await startBmc(t, 'works');
    const pw = join(bmc.dir, 'open.pass');
    writeFileSync(pw, PASSWORD, { mode: 0o644 });
    await assert.rejects(device(bmc, pw).fence('n1', AbortSignal.timeout(10_000)), /chmod 600/);
    assert.deepEqual(
      bmc.calls().filter((c) => c.startsWith('set')),
      [],
    );
  });
});
