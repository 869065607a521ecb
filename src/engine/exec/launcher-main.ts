import { LineDecoder } from '../../util/line-decoder.js';
import { forkCommand } from './fork-command.js';
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

function run(req: ToLauncher): void {
  const { id } = req;
  const launched = forkCommand(req.file, req.args, req.options, (chunk, stream) =>
    send({ t: 'out', id, d: chunk.toString('base64'), ...(stream === 'stderr' ? { e: 1 as const } : {}) }),
  );
  void launched.pid.then((pid) => {
    if (pid !== undefined) send({ t: 'pid', id, pid });
  });
  void launched.outcome.then(({ code, signal, error }) => {
    if (error) send({ t: 'error', id, message: error.message, ...(error.code ? { code: error.code } : {}) });
    else send({ t: 'exit', id, code, signal });
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
