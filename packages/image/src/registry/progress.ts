// Progress of a transfer, one line per blob, redrawn in place on a terminal (docker pull style).
// Not a terminal: nothing until each blob completes, then one line for it, so logs stay readable.
import type { Writable } from 'node:stream';
import { humanSize } from '../report/images-table.js';
import { shortId } from '../store/digest.js';

export type ProgressEvent =
  | { kind: 'start'; digest: string; total: number; what: string }
  | { kind: 'bytes'; digest: string; done: number }
  | { kind: 'done'; digest: string; status: string };

export type ProgressListener = (event: ProgressEvent) => void;

interface Line {
  what: string;
  total: number;
  done: number;
  status?: string;
}

export class ProgressBars {
  private readonly lines = new Map<string, Line>();
  private drawn = 0;
  private last = 0;

  constructor(
    private readonly out: Writable & { isTTY?: boolean; columns?: number },
    private readonly tty = out.isTTY === true,
  ) {}

  readonly listener: ProgressListener = (event) => {
    if (event.kind === 'start') this.lines.set(event.digest, { what: event.what, total: event.total, done: 0 });
    const line = this.lines.get(event.digest);
    if (line === undefined) return;
    if (event.kind === 'bytes') line.done = event.done;
    if (event.kind === 'done') {
      line.status = event.status;
      line.done = line.total;
      if (!this.tty) this.out.write(`${shortId(event.digest)}: ${event.status}\n`);
    }
    if (this.tty && (event.kind !== 'bytes' || Date.now() - this.last > 100)) this.draw();
  };

  private draw(): void {
    this.last = Date.now();
    const width = 30;
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const [digest, line] of this.lines) {
      const filled = line.total > 0 ? Math.min(width, Math.round((line.done / line.total) * width)) : width;
      const bar = line.status ?? `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 && filled < width ? '>' : filled === width ? '=' : ''}${' '.repeat(width - filled)}] ${humanSize(line.done)}/${humanSize(line.total)}`;
      text += `\x1b[2K${shortId(digest)}: ${bar}\n`;
    }
    this.drawn = this.lines.size;
    this.out.write(text);
  }

  finish(): void {
    if (this.tty && this.lines.size > 0) this.draw();
  }
}
