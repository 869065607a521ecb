import { Worker } from 'node:worker_threads';
import type { ParseOptions } from '../config/load.js';
import type { HaloConfig } from '../config/model.js';
import { configInvalid } from '../config/problems.js';
import { type ErrorCode, HaloError } from '../errors.js';

/**
 * Parses and validates config text in a thread of its own: a file at the size limit (4 MiB)
 * takes seconds of YAML parsing and schema checks, which on the agent's main thread would
 * stall its API, its resource operations and its monitors for as long (issue #19). One short-
 * lived thread per parse: it costs a few hundred milliseconds to start, which a push can
 * afford, and its memory (some 150 MB for a file at the limit) is returned when it exits.
 */

export interface ParseRequest {
  text: string;
  file: string;
  options: ParseOptions;
}

export type ParseReply =
  | { ok: true; config: HaloConfig }
  | { ok: false; halo: { code: ErrorCode; message: string; details: Record<string, unknown> | undefined } }
  | { ok: false; other: { message: string; stack: string | undefined } };

/**
 * Heap of the parsing thread. A file within the size and alias limits stays far below it (a
 * 4 MiB file needs about 150 MB); past it the thread is ended, and the agent with it is not.
 */
export const PARSE_HEAP_MB = 512;

/** `parseConfig` off the main thread: resolves with the same config, rejects with the same HaloError. */
export function parseConfigOffThread(
  text: string,
  file: string,
  options: ParseOptions = {},
  heapMb = PARSE_HEAP_MB,
): Promise<HaloConfig> {
  return new Promise((resolve, reject) => {
    const request: ParseRequest = { text, file, options };
    const worker = new Worker(new URL('./config-parse-worker.js', import.meta.url), {
      workerData: request,
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    worker.once('message', (reply: ParseReply) =>
      settle(() => {
        if (reply.ok) resolve(reply.config);
        else if ('halo' in reply)
          reject(new HaloError(reply.halo.code, reply.halo.message, reply.halo.details));
        else reject(Object.assign(new Error(reply.other.message), { stack: reply.other.stack }));
      }),
    );
    worker.once('error', (err: NodeJS.ErrnoException) =>
      settle(() =>
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? configInvalid(file, [
                {
                  path: [],
                  message: `checking this configuration needs more than ${heapMb} MiB of memory; expected a smaller file (fewer or shorter values, fewer aliases)`,
                },
              ])
            : err,
        ),
      ),
    );
    worker.once('exit', (code) =>
      settle(() =>
        reject(
          new HaloError('HALO_E_INTERNAL', `the config check thread exited (code ${code}) without an answer`),
        ),
      ),
    );
  });
}
