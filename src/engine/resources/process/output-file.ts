import { closeSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Rotate at this size, keeping one older file (FILE.1): at most twice this on disk. */
export const OUTPUT_FILE_MAX_BYTES = 1024 * 1024;

/**
 * The stdout/stderr of a process resource, appended to STATE_DIR/output/GROUP.RESOURCE.log
 * instead of the agent's log: a chatty program must not drown the agent's own lines (nor cost
 * a JSON log record per line). Writes are synchronous appends of what the pipe delivered;
 * errors (a full disk) are swallowed: losing program output must never stop the resource.
 */
export class OutputFile {
  readonly path: string;
  private readonly maxBytes: number;
  private fd: number | undefined;
  private size = 0;

  constructor(path: string, maxBytes = OUTPUT_FILE_MAX_BYTES) {
    this.path = path;
    this.maxBytes = maxBytes;
  }

  write(chunk: Buffer): void {
    try {
      if (this.fd === undefined) this.open();
      if (this.size + chunk.length > this.maxBytes && this.size > 0) {
        this.close();
        renameSync(this.path, `${this.path}.1`);
        this.open();
      }
      writeSync(this.fd!, chunk);
      this.size += chunk.length;
    } catch {
      // Best effort, see above.
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {}
    this.fd = undefined;
  }

  private open(): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }
}
