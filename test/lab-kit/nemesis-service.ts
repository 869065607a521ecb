import { appendFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * The two programs of the nemesis write load, run *inside* lab namespaces
 * (`ip netns exec NS node nemesis-service.js …`):
 *
 * - `store NAME PORT VIP FILE` (on every node): the service behind the VIP. A connection
 *   sends `W <seq>`; the store appends `<seq> <NAME> <monotonic ms>` to FILE — a file in a
 *   directory every node sees, the lab's "shared disk" — and only then answers `OK <NAME>`.
 *   It refuses (`NO <NAME>`) unless the VIP is on one of its own interfaces at that moment:
 *   a node that does not hold the VIP must never write, which is what makes a split brain
 *   visible as data damage and not just as two addresses.
 * - `writer HOST PORT INTERVAL_MS TIMEOUT_MS` (in the client namespace): one numbered write
 *   every INTERVAL_MS over a new connection each time (so a moved VIP is found at once),
 *   never two at a time, each given TIMEOUT_MS. Prints `A <seq> <node> <t0> <t1>` for an
 *   acknowledged write and `F <seq> <reason> <t0> <t1>` for any other outcome; exits when
 *   its stdin closes (the runner is gone).
 *
 * Times are CLOCK_MONOTONIC milliseconds, comparable with the runner's fault times.
 */

const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

function holds(vip: string): boolean {
  for (const addrs of Object.values(networkInterfaces()))
    for (const a of addrs ?? []) if (a.address === vip) return true;
  return false;
}

function store(name: string, port: number, vip: string, file: string): void {
  const server = createServer((sock) => {
    sock.on('error', () => {});
    sock.setEncoding('utf8');
    let buf = '';
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const m = /^W (\d+)$/.exec(buf.slice(0, nl).trim());
      if (!m) return void sock.end(`ERR ${name}\n`);
      if (!holds(vip)) return void sock.end(`NO ${name}\n`);
      try {
        // O_APPEND write(2): visible to every other process at once, no partial interleaving.
        appendFileSync(file, `${m[1]} ${name} ${monoMs().toFixed(1)}\n`);
      } catch {
        return void sock.end(`ERR ${name}\n`);
      }
      sock.end(`OK ${name}\n`);
    });
  });
  server.listen(port, '0.0.0.0', () => process.stdout.write('listening\n'));
}

function writeOnce(host: string, port: number, seq: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    let done = false;
    let sock: Socket | undefined;
    const finish = (outcome: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock?.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('F timeout'), timeoutMs);
    sock = createConnection({ host, port }, () => sock?.write(`W ${seq}\n`));
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      data += chunk;
    });
    sock.on('end', () => {
      const [verdict, who] = data.trim().split(' ');
      finish(verdict === 'OK' && who ? `A ${who}` : `F ${(verdict || 'empty').toLowerCase()}-${who ?? ''}`);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => finish(`F ${err.code ?? 'error'}`));
  });
}

async function writer(host: string, port: number, intervalMs: number, timeoutMs: number): Promise<void> {
  let stopped = false;
  process.stdin.on('end', () => {
    stopped = true;
  });
  process.stdin.on('close', () => {
    stopped = true;
  });
  process.stdin.resume();
  process.stdout.write('ready\n');
  let seq = 0;
  let next = monoMs();
  while (!stopped) {
    seq += 1;
    const t0 = monoMs();
    const [kind, what] = (await writeOnce(host, port, seq, timeoutMs)).split(' ');
    const t1 = monoMs();
    process.stdout.write(`${kind} ${seq} ${what} ${t0.toFixed(1)} ${t1.toFixed(1)}\n`);
    next = Math.max(next + intervalMs, t1);
    const wait = next - monoMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  process.exit(0);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'store' && args.length === 4) store(args[0]!, Number(args[1]), args[2]!, args[3]!);
else if (mode === 'writer' && args.length === 4)
  void writer(args[0]!, Number(args[1]), Number(args[2]), Number(args[3]));
else {
  process.stderr.write(
    'usage: nemesis-service.js store NAME PORT VIP FILE | writer HOST PORT INTERVAL_MS TIMEOUT_MS\n',
  );
  process.exit(2);
}
