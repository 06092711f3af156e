/**
 * Reading the engine's streams: multiplexed container logs (8-byte frame headers, no TTY) and the
 * newline-delimited JSON of build and pull progress.
 */
import { Readable } from 'node:stream';

/** Keeps the last `limit` lines. */
export class LineTail {
  readonly #limit: number;
  readonly #lines: string[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#limit) this.#lines.shift();
  }

  get lines(): readonly string[] {
    return this.#lines;
  }
}

/** Splits byte chunks into lines (without `\n`, `\r` trimmed), holding partial lines per channel. */
class LineSplitter {
  #partial = '';
  constructor(private readonly emit: (line: string) => void) {}

  write(text: string): void {
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const part of parts) this.emit(part.replace(/\r$/, ''));
  }

  end(): void {
    if (this.#partial !== '') this.emit(this.#partial.replace(/\r$/, ''));
    this.#partial = '';
  }
}

/**
 * Reads a container's multiplexed log stream (stdout and stderr frames) and calls `onLine` with each
 * line in arrival order. Resolves when the stream ends.
 */
export async function readContainerLog(
  stream: NodeJS.ReadableStream,
  onLine: (line: string, channel: 'stdout' | 'stderr') => void,
): Promise<void> {
  const splitters = [new LineSplitter((line) => onLine(line, 'stdout')), new LineSplitter((line) => onLine(line, 'stderr'))];
  let buffer = Buffer.alloc(0);
  for await (const chunk of Readable.from(stream as AsyncIterable<Buffer | string>)) {
    buffer = Buffer.concat([buffer, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    while (buffer.length >= 8) {
      const size = buffer.readUInt32BE(4);
      if (buffer.length < 8 + size) break;
      const channel = buffer[0] === 2 ? 1 : 0;
      splitters[channel]!.write(buffer.subarray(8, 8 + size).toString('utf8'));
      buffer = buffer.subarray(8 + size);
    }
  }
  for (const splitter of splitters) splitter.end();
}

/** One message of a build or pull progress stream. */
export interface ProgressMessage {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: { ID?: string };
}

/** Calls `onMessage` for each JSON message of a progress stream; resolves when it ends. */
export async function readProgress(stream: NodeJS.ReadableStream, onMessage: (message: ProgressMessage) => void): Promise<void> {
  const splitter = new LineSplitter((line) => {
    if (line.trim() === '') return;
    try {
      onMessage(JSON.parse(line) as ProgressMessage);
    } catch {
      onMessage({ stream: line });
    }
  });
  for await (const chunk of Readable.from(stream as AsyncIterable<Buffer | string>)) {
    const piece = chunk as Buffer | string;
    splitter.write(typeof piece === 'string' ? piece : piece.toString('utf8'));
  }
  splitter.end();
}

/** Splits a build's `stream` text into lines for output callbacks and tails. */
export function streamLines(text: string): string[] {
  return text.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line !== '');
}
