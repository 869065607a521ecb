import { parentPort, workerData } from 'node:worker_threads';
import { parseConfig } from '../engine/config-catalog.js';
import { isHaloError } from '../errors.js';
import type { ParseReply, ParseRequest } from './config-parse.js';

/** Entry of the thread that checks one config text (config-parse.ts), then exits. */
const { text, file, options } = workerData as ParseRequest;
let reply: ParseReply;
try {
  reply = { ok: true, config: parseConfig(text, file, options) };
} catch (err) {
  reply = isHaloError(err)
    ? { ok: false, halo: { code: err.code, message: err.message, details: err.details } }
    : {
        ok: false,
        other: { message: err instanceof Error ? err.message : String(err), stack: (err as Error)?.stack },
      };
}
parentPort!.postMessage(reply);
