import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { SdNotify } from '../../../src/agent/sd-notify.js';
import { tempDir } from '../../support/temp-dir.js';

/**
 * A real AF_UNIX datagram socket stands in for systemd's notify socket. Node cannot bind one,
 * so the receiver is a few lines of python3 printing every datagram as a JSON line.
 */
const RECEIVER = `
import json, socket, sys
path = sys.argv[1]
addr = "\\0" + path[1:] if path.startswith("@") else path
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(addr)
print(json.dumps("bound"), flush=True)
while True:
    print(json.dumps(s.recv(4096).decode()), flush=True)
`;

async function receiver(t: import('node:test').TestContext, path: string) {
  const child = spawn('python3', ['-u', '-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    child.kill('SIGKILL');
  });
  const messages: string[] = [];
  let buffer = '';
  let wake: (() => void) | null = null;
  child.stdout.on('data', (b: Buffer) => {
    buffer += b.toString();
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      messages.push(JSON.parse(buffer.slice(0, nl)) as string);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
    }
    wake?.();
  });
  const waitFor = async (pred: (m: string[]) => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!pred(messages)) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages)}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  };
  await waitFor((m) => m.includes('bound'), 'the receiver to bind');
  return { messages, waitFor };
}

test('READY=1, watchdog pings and STOPPING=1 arrive on a real unix datagram socket', async (t) => {
  const path = join(tempDir(t), 'notify.sock');
  const rx = await receiver(t, path);
  const sd = new SdNotify({ env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: '100000' } });
  t.after(() => sd.stop());
  assert.equal(sd.enabled, true);
  sd.start();
  sd.notify('READY=1\nSTATUS=serving');
  await rx.waitFor((m) => m.includes('READY=1\nSTATUS=serving'), 'READY=1');
  await rx.waitFor((m) => m.filter((x) => x === 'WATCHDOG=1').length >= 2, 'two watchdog pings');
  await sd.stop();
  await rx.waitFor((m) => m.includes('STOPPING=1'), 'STOPPING=1');
});

test('an abstract-namespace notify socket (leading @) is supported', async (t) => {
  const name = `@halo-test-${process.pid}-${Date.now()}`;
  const rx = await receiver(t, name);
  const sd = new SdNotify({ env: { NOTIFY_SOCKET: name } });
  t.after(() => sd.stop());
  sd.start();
  sd.notify('READY=1');
  await rx.waitFor((m) => m.includes('READY=1'), 'READY=1');
});

test('without NOTIFY_SOCKET nothing is started and notify is a no-op', async () => {
  const sd = new SdNotify({ env: {} });
  assert.equal(sd.enabled, false);
  sd.start();
  sd.notify('READY=1');
  await sd.stop();
});

test('the watchdog interval is half of WATCHDOG_USEC and only for the named process', () => {
  assert.equal(new SdNotify({ env: { WATCHDOG_USEC: '2000000' } }).watchdogIntervalMs(42), 1000);
  assert.equal(
    new SdNotify({ env: { WATCHDOG_USEC: '2000000', WATCHDOG_PID: '42' } }).watchdogIntervalMs(42),
    1000,
  );
  assert.equal(
    new SdNotify({ env: { WATCHDOG_USEC: '2000000', WATCHDOG_PID: '7' } }).watchdogIntervalMs(42),
    null,
  );
  assert.equal(new SdNotify({ env: {} }).watchdogIntervalMs(42), null);
});
