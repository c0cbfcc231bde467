import { constants as osConstants } from 'node:os';
import { IsolaError } from '@isola/errors';
import { Args, Flags } from '@oclif/core';
import { ImgCommand, badOption, createOptions, imageFormat, withProgress } from './base.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export default class ImgConvert extends ImgCommand {
  static override summary = 'Copy a disk image into a new raw or qcow2 image (qemu-img convert)';
  static override flags = {
    format: Flags.string({ char: 'f', description: 'source format (detected when omitted)' }),
    'output-format': Flags.string({ char: 'O', description: 'raw (default) or qcow2', default: 'raw' }),
    compress: Flags.boolean({ char: 'c', description: 'compress the qcow2 clusters (raw deflate)' }),
    options: Flags.string({ char: 'o', description: 'cluster_size=, compat=, refcount_bits=, lazy_refcounts=, extended_l2=', multiple: true, multipleNonGreedy: true }),
    cache: Flags.string({ char: 't', description: 'unsafe (default: no flush), writeback (flush at the end) or none (O_DIRECT, flush at the end)', options: ['unsafe', 'writeback', 'none'], default: 'unsafe' }),
    progress: Flags.boolean({ char: 'p', description: 'show progress (qemu-img\'s "(12.34/100%)" line on stdout)' }),
    quiet: Flags.boolean({ char: 'q', description: 'print nothing but errors (wins over -p)' }),
  };
  static override args = { source: Args.string({ required: true }), target: Args.string({ required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ImgConvert);
    const { convert } = await import('@isola/qcow2');
    const { backingFile, backingFormat, ...options } = await createOptions(flags.options);
    if (backingFile !== undefined || backingFormat !== undefined) throw badOption('-o backing_file, backing_fmt: convert does not create images with a backing file');
    // Ctrl-C or a kill stops the copy at the next chunk, and convert removes the half-written target.
    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals): void => stop.abort(new IsolaError('EIMG_INTERRUPTED', `${args.target}: convert interrupted by ${signal}, target removed`, { details: { signal } }));
    for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
    try {
      await withProgress(flags.progress && !flags.quiet, (onProgress) =>
        convert(args.source, args.target, {
          ...options,
          sourceFormat: imageFormat(flags.format),
          outputFormat: imageFormat(flags['output-format']) ?? 'raw',
          compress: flags.compress,
          sync: flags.cache !== 'unsafe',
          direct: flags.cache === 'none',
          signal: stop.signal,
          onProgress,
        }),
      );
    } finally {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    }
  }

  protected override async catch(error: Error & { exitCode?: number; code?: string; details?: { signal?: NodeJS.Signals } }): Promise<void> {
    await super.catch(error);
    // As a process killed by the signal reports itself: 128 + its number.
    const signal = error.code === 'EIMG_INTERRUPTED' ? error.details?.signal : undefined;
    if (signal !== undefined) process.exitCode = 128 + osConstants.signals[signal];
  }
}
