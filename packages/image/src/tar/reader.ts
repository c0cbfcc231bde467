// Streams a tar archive as entries: header (with PAX and GNU long names folded in), xattrs, and a
// body to read. Strict about the end: an archive that stops before its end-of-archive marker, or
// inside an entry, is truncated, which is how a cut-off uncompressed layer is caught.
import { LayerError } from '../errors.js';
import { ByteReader } from './byte-reader.js';
import { BLOCK_SIZE, isZeroBlock, parseHeader, type TarHeader } from './header.js';
import { applyPax, parsePax, xattrsOf, type PaxRecords } from './pax.js';

export interface TarEntry {
  header: TarHeader;
  /** From `SCHILY.xattr.*` PAX records, raw bytes. */
  xattrs: Map<string, Buffer>;
  /**
   * The entry's data. Read it to the end or not at all before asking for the next entry; what is
   * left unread is skipped.
   */
  body(): AsyncIterable<Buffer>;
}

/** Extended headers (PAX, GNU long names) are held in memory; real ones are a few hundred bytes. */
const MAX_EXTENDED_HEADER = 1024 * 1024;

// Go's archive/tar: these types never have data, whatever the size field says.
const HEADER_ONLY = new Set(['hardlink', 'symlink', 'char-device', 'block-device', 'directory', 'fifo']);

function padding(size: number): number {
  return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
}

function truncated(reason: string, offset: number): LayerError {
  return new LayerError('ELAYER_TRUNCATED', `tar truncated: ${reason} (at byte ${offset})`, { details: { offset } });
}

async function readExtended(reader: ByteReader, header: TarHeader): Promise<Buffer> {
  if (header.size > MAX_EXTENDED_HEADER) {
    throw new LayerError('ELAYER_TAR', `tar header at byte ${header.offset}: ${header.type} body of ${header.size} bytes is over the ${MAX_EXTENDED_HEADER}-byte limit`, {
      details: { offset: header.offset },
    });
  }
  const body = await reader.read(header.size);
  if (body.length < header.size || (await reader.skip(padding(header.size))) < padding(header.size)) {
    throw truncated(`inside a ${header.type} header`, reader.position);
  }
  return body;
}

/** GNU long names are NUL-terminated inside their body. */
function nulTerminated(body: Buffer): string {
  const end = body.indexOf(0);
  return body.toString('utf8', 0, end === -1 ? body.length : end);
}

/**
 * Yields each entry of the archive in `source`. After the end-of-archive marker the rest of the
 * source is read and discarded, so a digest computed over the stream covers all of it.
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  let globalPax: PaxRecords = new Map();
  let pendingPax: PaxRecords | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const offset = reader.position;
      const block = await reader.read(BLOCK_SIZE);
      if (block.length === 0) throw truncated('no end-of-archive marker', offset);
      if (block.length < BLOCK_SIZE) throw truncated('inside a header', reader.position);
      if (isZeroBlock(block)) {
        // The marker is two zero blocks; accept one followed by the end, as GNU tar does.
        const second = await reader.read(BLOCK_SIZE);
        if (second.length === BLOCK_SIZE && !isZeroBlock(second)) {
          throw new LayerError('ELAYER_TAR', `tar header at byte ${offset}: a zero block in the middle of the archive`, {
            details: { offset },
          });
        }
        await reader.drain();
        return;
      }

      let header = parseHeader(block, offset);
      switch (header.type) {
        case 'pax':
          pendingPax = parsePax(await readExtended(reader, header), offset);
          continue;
        case 'pax-global':
          globalPax = new Map([...globalPax, ...parsePax(await readExtended(reader, header), offset)]);
          continue;
        case 'gnu-long-name':
          longName = nulTerminated(await readExtended(reader, header));
          continue;
        case 'gnu-long-link':
          longLink = nulTerminated(await readExtended(reader, header));
          continue;
      }

      if (longName !== undefined) header.name = longName;
      if (longLink !== undefined) header.linkname = longLink;
      const records: PaxRecords = new Map([...globalPax, ...(pendingPax ?? [])]);
      header = applyPax(header, records);
      const xattrs = xattrsOf(records);
      pendingPax = longName = longLink = undefined;

      const size = HEADER_ONLY.has(header.type) ? 0 : header.size;
      let remaining = size;
      const entryHeader = header;
      async function* body(): AsyncGenerator<Buffer> {
        while (remaining > 0) {
          const part = await reader.take(remaining);
          if (part === undefined) throw truncated(`inside the data of "${entryHeader.name}"`, reader.position);
          remaining -= part.length;
          yield part;
        }
      }
      yield { header, xattrs, body };

      if ((await reader.skip(remaining)) < remaining || (await reader.skip(padding(size))) < padding(size)) {
        throw truncated(`inside the data of "${header.name}"`, reader.position);
      }
      remaining = 0;
    }
  } finally {
    await reader.close();
  }
}
