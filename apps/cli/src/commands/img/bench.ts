import { Args, Flags } from '@oclif/core';
import { ImgCommand, imageFormat } from './base.js';

export default class ImgBench extends ImgCommand {
  static override summary = 'Measure read or write requests per second on a disk image (qemu-img bench)';
  static override flags = {
    count: Flags.integer({ char: 'c', description: 'requests (default 75000)', default: 75000 }),
    depth: Flags.integer({ char: 'd', description: 'requests in flight (default 64)', default: 64 }),
    format: Flags.string({ char: 'f', description: 'qcow2 or raw (detected when omitted)' }),
    offset: Flags.string({ char: 'o', description: 'first offset' }),
    size: Flags.string({ char: 's', description: 'bytes per request (default 4096)', default: '4096' }),
    step: Flags.string({ char: 'S', description: 'offset step (default: the request size)' }),
    write: Flags.boolean({ char: 'w', description: 'write instead of read' }),
    cache: Flags.string({ char: 't', description: 'none (O_DIRECT) or writeback (default)', options: ['none', 'writeback'], default: 'writeback' }),
    pattern: Flags.integer({ description: 'byte to write (default 0)' }),
    'flush-interval': Flags.integer({ description: 'flush after this many writes' }),
    quiet: Flags.boolean({ char: 'q' }),
  };
  static override args = { filename: Args.string({ required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgBench);
    // Counts, depth and pattern are checked by bench() itself, one line each (oclif's min/max would put
    // the reason on a second line).
    const { bench, formatBenchStart, formatBenchEnd, parseSize } = await import('@isola/qcow2');
    const options = {
      count: flags.count,
      depth: flags.depth,
      size: parseSize(flags.size),
      step: flags.step === undefined ? undefined : parseSize(flags.step),
      offset: flags.offset === undefined ? undefined : parseSize(flags.offset),
      write: flags.write,
      cache: flags.cache as 'none' | 'writeback',
      format: imageFormat(flags.format),
      pattern: flags.pattern,
      flushInterval: flags['flush-interval'],
    };
    if (!flags.quiet) process.stdout.write(formatBenchStart(options));
    const result = await bench(args.filename, options);
    if (!flags.quiet) process.stdout.write(formatBenchEnd(result));
  }
}
