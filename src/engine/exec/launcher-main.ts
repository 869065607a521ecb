import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { LineDecoder } from '../../util/line-decoder.js';
import { drainPipes } from './drain-pipes.js';
import type { FromLauncher, ToLauncher } from './launcher-protocol.js';

/**
 * The launcher process: starts the agent's resource commands and reports their output and
 * exit. Why a process of its own: fork() from the agent write-protects every page of the
 * agent's memory, the coordination worker's heap included, and each page the worker then
 * writes takes a fault and a TLB shootdown. A thousand resource starts back to back kept the
 * worker in page faults for seconds and its lease renewals ran late. Forking from this small
 * process costs the agent nothing. It ends when the agent closes the pipe; commands still
 * running go on (each leads its own process group, as when the agent starts them itself).
 */

const send = (m: FromLauncher) => {
  try {
    process.stdout.write(`${JSON.stringify(m)}\n`);
  } catch {
    // The agent is gone; nothing to report to.
  }
};
process.stdout.on('error', () => {});

function run(req: Extract<ToLauncher, { t: 'run' }>): void {
  const child = spawn(req.file, req.args, { ...req.options, stdio: ['ignore', 'pipe', 'pipe'] });
  const streams = [child.stdout, child.stderr].filter((s): s is Readable => s !== null);
  for (const stream of streams)
    stream.on('data', (chunk: Buffer) => send({ t: 'out', id: req.id, d: chunk.toString('base64') }));
  child.once('spawn', () => {
    if (child.pid !== undefined) send({ t: 'pid', id: req.id, pid: child.pid });
  });
  child.once('error', (err: NodeJS.ErrnoException) => {
    // Spawn failures emit 'error' and may never emit 'exit'.
    if (child.pid === undefined)
      send({ t: 'error', id: req.id, message: err.message, ...(err.code ? { code: err.code } : {}) });
  });
  child.once('exit', (code, signal) => {
    void drainPipes(streams).then(() => {
      // Daemons the command left behind may hold its pipes: read on, report no more.
      for (const stream of streams) stream.removeAllListeners('data');
      send({ t: 'exit', id: req.id, code, signal });
    });
  });
}

const decoder = new LineDecoder(
  (value) => {
    const req = value as ToLauncher;
    if (req?.t === 'run') run(req);
  },
  () => {},
);
process.stdin.on('data', (chunk: Buffer) => decoder.push(chunk));
process.stdin.on('end', () => process.exit(0));
