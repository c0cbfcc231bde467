// What every `isola img` command shares: qemu-img's exit status for a failure (1, where isola's other
// commands use 125), and the -o option string parsed into create options.
import { IsolaError } from '@isola/errors';
import { IsolaCommand } from '../../base.js';

export abstract class ImgCommand extends IsolaCommand {
  /** Exit status when the command fails with an error (qemu-img: 1; compare: 2). */
  protected errorStatus = 1;

  protected override async catch(error: Error & { exitCode?: number }): Promise<void> {
    await super.catch(error);
    if (process.exitCode === 125) process.exitCode = this.errorStatus;
  }
}

export interface ParsedCreateOptions {
  clusterSize?: number;
  version?: 2 | 3;
  refcountBits?: number;
  lazyRefcounts?: boolean;
  extendedL2?: boolean;
  backingFile?: string;
  backingFormat?: 'qcow2' | 'raw';
}

/** qemu-img's "-o cluster_size=64k,compat=1.1,..." (repeatable) for qcow2 images. */
export async function createOptions(values: readonly string[] | undefined): Promise<ParsedCreateOptions> {
  const { parseOptionString, parseSize, parseBool } = await import('@isola/qcow2');
  const out: ParsedCreateOptions = {};
  for (const text of values ?? []) {
    for (const [key, value] of parseOptionString(text)) {
      switch (key) {
        case 'cluster_size':
          out.clusterSize = parseSize(value, key);
          break;
        case 'compat':
          if (value !== '0.10' && value !== '1.1' && value !== 'v2' && value !== 'v3') throw badOption(`compat: invalid version "${value}" (0.10 or 1.1)`);
          out.version = value === '0.10' || value === 'v2' ? 2 : 3;
          break;
        case 'refcount_bits':
          if (!/^\d+$/.test(value)) throw badOption(`refcount_bits: "${value}" is not a number of bits`);
          out.refcountBits = Number(value);
          break;
        case 'lazy_refcounts':
          out.lazyRefcounts = parseBool(value, key);
          break;
        case 'extended_l2':
          out.extendedL2 = parseBool(value, key);
          break;
        case 'backing_file':
          out.backingFile = value;
          break;
        case 'backing_fmt':
          out.backingFormat = imageFormat(value);
          break;
        default:
          throw badOption(`invalid parameter "${key}" (cluster_size, compat, refcount_bits, lazy_refcounts, extended_l2, backing_file, backing_fmt)`);
      }
    }
  }
  return out;
}

export function imageFormat(value: string | undefined): 'qcow2' | 'raw' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'qcow2' && value !== 'raw') throw badOption(`unknown file format "${value}" (qcow2 and raw are supported)`);
  return value;
}

/** A bad -o option or format name: the code @isola/qcow2 gives its own option errors. */
export function badOption(message: string): IsolaError {
  return new IsolaError('EIMG_BAD_OPTION', message);
}

/**
 * qemu-img's -p: "    (12.34/100%)\r" on stdout when the share done has grown by at least one point
 * since the last line (and at the start), then "    (100.00/100%)\r\n" once the command succeeded.
 */
class ProgressLine {
  private last = -Infinity;

  constructor(private readonly write: (text: string) => void = (text) => process.stdout.write(text)) {}

  update(done: number): void {
    const percent = Math.min(100, Math.max(0, done * 100));
    if (percent - this.last < 1 && !(percent === 100 && this.last < 100)) return;
    this.last = percent;
    this.write(`    (${percent.toFixed(2)}/100%)\r`);
  }

  /** Ends the line: with 100% after a success, as it stands after a failure (so that the error starts a line). */
  end(succeeded: boolean): void {
    if (succeeded) this.write('    (100.00/100%)\r\n');
    else if (this.last !== -Infinity) this.write('\n');
  }
}

/** Runs `task`, handing it an onProgress that prints the progress line when `shown` (-p without -q). */
export async function withProgress<T>(shown: boolean, task: (onProgress?: (done: number) => void) => Promise<T>): Promise<T> {
  const line = shown ? new ProgressLine() : undefined;
  let succeeded = false;
  try {
    const result = await task(line && ((done) => line.update(done)));
    succeeded = true;
    return result;
  } finally {
    line?.end(succeeded);
  }
}
