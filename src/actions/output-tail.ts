/**
 * Keeps the last `limit` bytes of a stream (a command's stdout or stderr), so a chatty process
 * cannot grow memory; the tail is what explains a failure.
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
      this.dropped = true;
    }
  }

  /** The tail as UTF-8 text, trimmed of trailing whitespace; `…` marks a cut. */
  text(): string {
    let all = Buffer.concat(this.chunks);
    let cut = this.dropped;
    if (all.length > this.limit) {
      all = all.subarray(all.length - this.limit);
      cut = true;
    }
    const text = all.toString('utf8').trimEnd();
    return cut ? '…' + text.replace(/^\uFFFD+/, '') : text;
  }
}
