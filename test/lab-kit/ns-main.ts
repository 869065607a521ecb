import { createConnection, createServer } from 'node:net';
import { createInterface } from 'node:readline';

/**
 * Small programs the lab runs *inside* namespaces (`ip netns exec NS node ns-main.js …`),
 * since a Node process cannot enter another network namespace itself:
 * - `responder NAME PORT`: answers every TCP connection with NAME and closes (the service
 *   behind the VIP; the client learns who served it);
 * - `client`: JSON lines on stdin/stdout; HTTP requests to the agents' APIs and the VIP
 *   prober (a new connection every interval, so a moved VIP is found at once and no kept-alive
 *   connection hides an outage).
 * Times are CLOCK_MONOTONIC milliseconds (`process.hrtime`), the same clock in every process
 * on the machine, so the test process can compare them with the moment it injected a fault.
 */

export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

function responder(name: string, port: number): void {
  const server = createServer((sock) => {
    sock.on('error', () => {});
    sock.end(`${name}\n`);
  });
  server.listen(port, '0.0.0.0', () => process.stdout.write('listening\n'));
}

/** One probe result: monotonic ms when it ended, and who answered ('' = failed). */
type ProbeRecord = [number, string];

class Prober {
  private timer: NodeJS.Timeout | null = null;
  records: ProbeRecord[] = [];

  start(host: string, port: number, intervalMs: number, timeoutMs: number): void {
    this.stop();
    this.records = [];
    this.timer = setInterval(() => this.once(host, port, timeoutMs), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private once(host: string, port: number, timeoutMs: number): void {
    let data = '';
    let done = false;
    const finish = (who: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      this.records.push([monoMs(), who]);
    };
    const sock = createConnection({ host, port });
    const timer = setTimeout(() => finish(''), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      data += chunk;
    });
    sock.on('end', () => finish(data.trim()));
    sock.on('error', () => finish(''));
  }
}

async function http(req: {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}) {
  const res = await fetch(req.url, {
    method: req.method ?? 'GET',
    headers: req.headers ?? {},
    ...(req.body !== undefined ? { body: req.body } : {}),
    signal: AbortSignal.timeout(req.timeoutMs ?? 3000),
  });
  return { status: res.status, body: await res.text() };
}

function client(): void {
  const prober = new Prober();
  const rl = createInterface({ input: process.stdin });
  const reply = (msg: unknown) => process.stdout.write(`${JSON.stringify(msg)}\n`);
  rl.on('line', (line) => {
    let msg: { id: number; op: string; [k: string]: unknown };
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    const handle = async (): Promise<unknown> => {
      switch (msg.op) {
        case 'http':
          return http(msg as never);
        case 'probe-start':
          prober.start(
            String(msg['host']),
            Number(msg['port']),
            Number(msg['intervalMs'] ?? 10),
            Number(msg['timeoutMs'] ?? 100),
          );
          return null;
        case 'probe-records': {
          const since = Number(msg['since'] ?? 0);
          return prober.records.filter((r) => r[0] >= since);
        }
        case 'probe-stop':
          prober.stop();
          return prober.records;
        case 'now':
          return monoMs();
        default:
          throw new Error(`unknown op ${msg.op}`);
      }
    };
    handle().then(
      (result) => reply({ id: msg.id, ok: true, result }),
      (err: Error) => reply({ id: msg.id, ok: false, error: err.message }),
    );
  });
  rl.on('close', () => process.exit(0));
  reply({ id: 0, ok: true, result: 'ready' });
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'responder') responder(args[0] ?? 'unknown', Number(args[1] ?? 8080));
else if (mode === 'client') client();
else {
  process.stderr.write('usage: ns-main.js responder NAME PORT | client\n');
  process.exit(2);
}
