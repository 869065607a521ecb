/** Splits a byte stream into JSON lines; bad lines are reported, not thrown. */
export class LineDecoder {
  private buffer = '';
  private readonly onLine: (value: unknown) => void;
  /** Gets only the length: a line may carry the key, so its text is never passed on. */
  private readonly onBad: (length: number) => void;

  constructor(onLine: (value: unknown) => void, onBad: (length: number) => void) {
    this.onLine = onLine;
    this.onBad = onBad;
  }

  push(chunk: Buffer | string): void {
    this.buffer += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line.length > 0) {
        let value: unknown;
        let ok = true;
        try {
          value = JSON.parse(line);
        } catch {
          ok = false;
        }
        if (ok) this.onLine(value);
        else this.onBad(line.length);
      }
      nl = this.buffer.indexOf('\n');
    }
  }
}
