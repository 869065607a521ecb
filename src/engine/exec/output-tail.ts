/**
 * Keeps the last `capBytes` bytes of a command's output: the end of a failing script's output
 * is where the error is, so the head is what gets dropped.
 */
export class OutputTail {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private droppedBytes = 0;

  constructor(private readonly capBytes = 64 * 1024) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.capBytes && this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const excess = this.size - this.capBytes;
      if (head.length <= excess) {
        this.chunks.shift();
        this.size -= head.length;
        this.droppedBytes += head.length;
      } else {
        this.chunks[0] = head.subarray(excess);
        this.size -= excess;
        this.droppedBytes += excess;
      }
    }
  }

  get dropped(): number {
    return this.droppedBytes;
  }

  /** The kept tail as text, prefixed with a marker when the head was dropped. */
  text(): string {
    const body = Buffer.concat(this.chunks).toString('utf8');
    // A cut may split a multi-byte character; the replacement character at the start is harmless.
    return this.droppedBytes > 0 ? `[… ${this.droppedBytes} bytes dropped]\n${body}` : body;
  }
}

/** Longest last line quoted in a log line, status reason or error message. */
export const LAST_LINE_MAX_CHARS = 200;

/**
 * The last line with text (usually the error a failing program printed), cut to `maxChars`:
 * it is quoted in one-line places (agent log, status reason), where a program that prints one
 * endless line must not bring its bulk along. The whole output stays in the output file.
 */
export function lastLine(output: string, maxChars = LAST_LINE_MAX_CHARS): string {
  const trimmed = output.trimEnd();
  const line = trimmed.slice(trimmed.lastIndexOf('\n') + 1).trim();
  if (line.length <= maxChars) return line;
  let cut = line.slice(0, maxChars - 1);
  // Never end on half of a surrogate pair (it would print as a replacement character).
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
