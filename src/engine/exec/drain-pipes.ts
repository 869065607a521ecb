import type { Readable } from 'node:stream';

/** After the leader exits, background children that inherited stdout may keep it open for ever. */
const DRAIN_MS = 200;

/** Waits briefly for the pipes to close, then stops holding them (or the event loop) open. */
export async function drainPipes(streams: Readable[]): Promise<void> {
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
