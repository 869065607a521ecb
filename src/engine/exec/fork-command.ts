import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type {
  Launched,
  LaunchOptions,
  LaunchOutcome,
  OutputSink,
  OutputStream,
} from './launcher-protocol.js';

/** After the leader exits, background children that inherited stdout may keep it open for ever. */
const DRAIN_MS = 200;

/** Waits briefly for the pipes to close, then stops holding them (or the event loop) open. */
async function drainPipes(streams: Readable[]): Promise<void> {
  const open = streams.filter((stream) => !stream.closed);
  if (open.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(open.map((stream) => new Promise((resolve) => stream.once('close', resolve)))),
    new Promise((resolve) => {
      timer = setTimeout(resolve, DRAIN_MS);
    }),
  ]);
  clearTimeout(timer);
  for (const stream of open) {
    if (stream.closed) continue;
    // Keep reading (a daemon writing to a closed pipe would die of SIGPIPE) but do not keep the process alive.
    stream.resume();
    (stream as Readable & { unref?: () => void }).unref?.();
  }
}

/**
 * Forks one command from this process with its output going to `capture`; the outcome comes
 * once it exited and its pipes were drained. Used by the launcher process, and by runCommand
 * where no launcher is in use (the CLI, tests).
 */
export function forkCommand(
  file: string,
  args: string[],
  options: LaunchOptions,
  capture: OutputSink,
): Launched {
  const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const readers = new Map<Readable, (chunk: Buffer) => void>();
  const read = (stream: Readable | null, name: OutputStream) => {
    if (stream) readers.set(stream, (chunk: Buffer) => capture(chunk, name));
  };
  read(child.stdout, 'stdout');
  read(child.stderr, 'stderr');
  const streams = [...readers.keys()];
  for (const [stream, reader] of readers) stream.on('data', reader);
  const exited = new Promise<LaunchOutcome>((resolve) => {
    child.once('error', (error) => {
      // Spawn failures emit 'error' and may never emit 'exit'.
      if (child.pid === undefined) resolve({ code: null, signal: null, error });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const outcome = exited.then(async (o) => {
    await drainPipes(streams);
    // Daemons the command left behind may hold its pipes: read on, capture no more.
    for (const [stream, reader] of readers) stream.off('data', reader);
    return o;
  });
  return { pid: Promise.resolve(child.pid), outcome };
}
