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
