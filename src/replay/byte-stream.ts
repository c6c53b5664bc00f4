// Sequential bytes from one file descriptor, read once in chunks: what the capture readers parse (files, FIFOs, pipes alike).
import { readSync } from 'node:fs';
import { CaptureError } from './capture-types.ts';

/** Sleeps the thread: a read on a non-blocking stdin that has nothing yet, a write to a full non-blocking pipe. */
export function pauseThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A window over the stream that grows only as far as the largest block asks. Nothing is re-read or sought, so
 * it works the same on a file, a FIFO or a pipe.
 */
export class ByteStream {
  private buf = Buffer.allocUnsafe(1 << 20);
  private start = 0;
  private end = 0;
  private eof = false;
  /** Offset in the stream of `buf[start]`. */
  private consumed = 0;

  private readonly fd: number;
  private readonly path: string;

  constructor(fd: number, path: string) {
    this.fd = fd;
    this.path = path;
  }

  /** Stream offset of the cursor. */
  get offset(): number {
    return this.consumed;
  }

  /** Makes `n` bytes ready at the cursor unless the stream ends first; returns how many are ready (<= n). */
  fill(n: number): number {
    if (this.end - this.start >= n || this.eof) return Math.min(n, this.end - this.start);
    if (this.start + n > this.buf.length) {
      // Move what is left to the front, growing the buffer when one block needs more than it holds.
      const keep = this.end - this.start;
      const next = n > this.buf.length ? Buffer.allocUnsafe(Math.max(n, this.buf.length * 2)) : this.buf;
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.start = 0;
      this.end = keep;
    }
    while (this.end - this.start < n) {
      const got = this.readChunk();
      if (got === 0) {
        this.eof = true;
        break;
      }
      this.end += got;
    }
    return Math.min(n, this.end - this.start);
  }

  /** One read(2) into the free end of the window: 0 at the end of the stream. */
  private readChunk(): number {
    for (;;) {
      try {
        return readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
          pauseThread(5);
          continue;
        }
        if (code === 'EINTR') continue;
        throw new CaptureError(
          this.path,
          `reading it failed after ${this.consumed + this.end - this.start} bytes (${(err as Error).message}); check the disk or the program writing into the pipe`,
        );
      }
    }
  }

  /** The `n` bytes at the cursor (call fill(n) first); valid until the next fill(). */
  view(n: number): Buffer {
    return this.buf.subarray(this.start, this.start + n);
  }

  skip(n: number): void {
    this.start += n;
    this.consumed += n;
  }
}
