import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lab-kit/exec.js';
import type { Lab } from '../lab-kit/lab.js';

/**
 * The two small programs of the azure-wsfc scenario, written into the lab's directory and run
 * with `ip netns exec` (a Node process cannot enter another network namespace itself):
 * - the clustered "database": a long-lived TCP echo server, run by Halo as the group's
 *   `process` resource, so a session through the load balancer stays open as a real
 *   database connection would;
 * - an app server's session: connect through the firewall and the load balancer, ask once,
 *   stay silent for a while, ask again — with SO_KEEPALIVE (the OS's keepalive defaults of its
 *   namespace then apply) or without.
 */

const DB = `const net = require('node:net');
const name = process.env.HALO_NODE || 'unknown';
net.createServer((s) => {
  s.on('error', () => {});
  s.setEncoding('utf8');
  s.on('data', (d) => s.write(name + ' ' + d));
}).listen(Number(process.argv[2]), '0.0.0.0');
`;

const SESSION = `const net = require('node:net');
const [host, port, keepalive, idleMs, answerMs] = process.argv.slice(2);
const out = { connected: false, first: null, second: null };
const done = () => { process.stdout.write(JSON.stringify(out) + '\\n'); process.exit(0); };
const s = net.connect(Number(port), host);
s.setEncoding('utf8');
s.on('error', done);
s.on('close', done);
let pending = null;
s.on('data', (d) => { if (pending) { const p = pending; pending = null; p(d.trim()); } });
const ask = (what) => new Promise((resolve) => {
  const timer = setTimeout(() => { pending = null; resolve(null); }, Number(answerMs));
  pending = (line) => { clearTimeout(timer); resolve(line); };
  s.write(what + '\\n');
});
s.on('connect', async () => {
  out.connected = true;
  if (keepalive === '1') s.setKeepAlive(true);
  out.first = await ask('hello');
  await new Promise((r) => setTimeout(r, Number(idleMs)));
  out.second = await ask('again');
  s.destroy();
  done();
});
`;

export interface AppFiles {
  db: string;
  session: string;
}

export function writeApps(lab: Lab): AppFiles {
  const db = join(lab.dir, 'db-echo.cjs');
  const session = join(lab.dir, 'app-session.cjs');
  writeFileSync(db, DB);
  writeFileSync(session, SESSION);
  return { db, session };
}

export interface SessionResult {
  connected: boolean;
  first: string | null;
  second: string | null;
}

/** One app server's session (see above); resolves when it has asked twice. */
export async function runSession(
  namespace: string,
  file: string,
  o: { host: string; port: number; keepalive: boolean; idleMs: number; answerMs: number },
): Promise<SessionResult> {
  const r = await run(
    [
      'ip',
      'netns',
      'exec',
      namespace,
      process.execPath,
      file,
      o.host,
      String(o.port),
      o.keepalive ? '1' : '0',
      String(o.idleMs),
      String(o.answerMs),
    ],
    { timeoutMs: o.idleMs + o.answerMs * 2 + 10_000 },
  );
  return JSON.parse(r.stdout.trim()) as SessionResult;
}
