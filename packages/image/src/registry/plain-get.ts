// GET over plain HTTP/1.1, on a socket of its own, for the registry client's downloads over http://
// (registries on loopback, or named insecure). node:http hands a body over in 64 KiB Buffers, each
// through the HTTP parser's JS callbacks and a stream: a 33.6 MB layer from docker-registry on
// 127.0.0.1 took 130-200 ms to arrive in a fresh process, where a socket reading into 1 MiB buffers
// (net's `onread`) took 25-45 ms. Here the socket reads straight into 1 MiB buffers, and the body is
// handed out as views of them: each read is one chunk, never copied and never overwritten (a buffer
// with less than 64 KiB left is followed by a new one). https and requests with a body stay on
// node:http (http.ts).
//
// The response is HTTP/1.1 as RFC 9112 frames it: a status line, header fields, then a body delimited
// by Transfer-Encoding: chunked, by Content-Length, or by the end of the connection; 1xx answers are
// skipped. The request says Connection: close, so nothing follows the body.
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface PlainResponse {
  status: number;
  /** Field names lower-cased; repeated fields joined with ', ' (set-cookie: an array), as node:http does. */
  headers: IncomingHttpHeaders;
  /** The body as it arrives; iterate it once. A connection that ends early fails the iteration. */
  body: AsyncIterable<Buffer>;
  /** Closes the connection; an iteration in progress ends. */
  destroy(): void;
}

const BUFFER = 1024 * 1024;
/** Reads go into what is left of the current buffer while at least this much is. */
const MIN_READ = 64 * 1024;
/** node:http's limit for the status line and header fields together is 16 KiB. */
const MAX_HEAD = 16 * 1024;
/** Body bytes received and not yet taken by the reader before the socket pauses. */
const HIGH_WATER = 4 * BUFFER;

type Framing = { kind: 'length'; left: number } | { kind: 'chunked'; state: ChunkState } | { kind: 'close' } | { kind: 'none' };
interface ChunkState {
  /** Data bytes left in the current chunk (0: a size line comes next). */
  left: number;
  /** The size line, or the CRLF after a chunk's data, or a trailer line, as far as it has arrived. */
  line: string;
  phase: 'size' | 'data-end' | 'trailer';
}

function protocolError(message: string): Error {
  return Object.assign(new Error(`malformed HTTP response: ${message}`), { code: 'EPROTO' });
}

/** Request header values go on the wire as they are: CR or LF in one would start a new field. */
function checkHeader(name: string, value: string): void {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
    throw Object.assign(new Error(`invalid request header ${JSON.stringify(name)}`), { code: 'ERR_INVALID_CHAR' });
  }
}

function parseHead(text: string): { status: number; headers: IncomingHttpHeaders } {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]);
  if (m === null) throw protocolError(`status line ${JSON.stringify(lines[0].slice(0, 80))}`);
  const headers: Record<string, string | string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) throw protocolError(`header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const had = headers[name];
    if (name === 'set-cookie') headers[name] = [...((had as string[] | undefined) ?? []), value];
    else headers[name] = had === undefined ? value : `${had as string}, ${value}`;
  }
  return { status: Number(m[1]), headers: headers as IncomingHttpHeaders };
}

function framingOf(status: number, headers: IncomingHttpHeaders): Framing {
  if (status === 204 || status === 304) return { kind: 'none' };
  const te = headers['transfer-encoding'];
  if (te !== undefined) {
    if (te.toLowerCase().split(',').pop()!.trim() !== 'chunked') throw protocolError(`transfer-encoding ${te}`);
    return { kind: 'chunked', state: { left: 0, line: '', phase: 'size' } };
  }
  const cl = headers['content-length'];
  if (cl !== undefined) {
    // Repeated fields arrive joined; they must all agree.
    const values = new Set(cl.split(',').map((v) => v.trim()));
    const [only] = values;
    if (values.size !== 1 || !/^\d{1,15}$/.test(only)) throw protocolError(`content-length ${cl}`);
    return { kind: 'length', left: Number(only) };
  }
  return { kind: 'close' };
}

/**
 * Sends `GET url` (http: only) and resolves once the status line and header fields have arrived.
 * Fails with the socket's errno (ECONNREFUSED...), EPROTO for a response that is not HTTP/1.x, or
 * ETIMEDOUT after `idleTimeout` ms of silence, connecting included.
 */
export function plainGet(url: URL, requestHeaders: Record<string, string>, idleTimeout: number): Promise<PlainResponse> {
  if (url.protocol !== 'http:') return Promise.reject(Object.assign(new Error(`plainGet: ${url.protocol} is not http:`), { code: 'EPROTO' }));
  let request = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n`;
  try {
    for (const [name, value] of Object.entries(requestHeaders)) {
      if (['host', 'connection'].includes(name.toLowerCase())) continue;
      checkHeader(name, value);
      request += `${name}: ${value}\r\n`;
    }
  } catch (error) {
    return Promise.reject(error);
  }
  request += '\r\n';

  return new Promise((resolveHead, rejectHead) => {
    let buffer = Buffer.allocUnsafeSlow(BUFFER);
    let used = 0;
    let head: Buffer | undefined = Buffer.alloc(0);
    let framing: Framing | undefined;
    let response: PlainResponse | undefined;
    let ended = false;
    let failure: Error | undefined;
    let received = 0;
    const queue: Buffer[] = [];
    let queued = 0;
    let paused = false;
    let wake: (() => void) | undefined;

    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const fail = (error: Error) => {
      if (ended || failure !== undefined) return;
      failure = error;
      socket.destroy();
      if (response === undefined) rejectHead(error);
      notify();
    };
    const finish = () => {
      if (ended || failure !== undefined) return;
      ended = true;
      socket.destroy();
      notify();
    };
    const deliver = (chunk: Buffer) => {
      if (chunk.length === 0) return;
      received += chunk.length;
      queue.push(chunk);
      queued += chunk.length;
      notify();
    };

    /** Body bytes as they arrived: framing removed, handed to the reader. */
    const onBody = (data: Buffer) => {
      const f = framing!;
      if (f.kind === 'close') deliver(data);
      else if (f.kind === 'length') {
        const take = Math.min(f.left, data.length);
        deliver(data.subarray(0, take));
        f.left -= take;
        // Anything past the announced length is not part of this response.
        if (f.left === 0) finish();
      } else if (f.kind === 'chunked') onChunked(f.state, data);
      else finish();
    };

    const onChunked = (s: ChunkState, data: Buffer) => {
      let at = 0;
      while (at < data.length && !ended && failure === undefined) {
        if (s.left > 0) {
          const take = Math.min(s.left, data.length - at);
          deliver(data.subarray(at, at + take));
          s.left -= take;
          at += take;
          if (s.left === 0) s.phase = 'data-end';
          continue;
        }
        const lf = data.indexOf(10, at);
        const end = lf === -1 ? data.length : lf + 1;
        s.line += data.toString('latin1', at, end);
        at = end;
        if (s.line.length > 1024) return fail(protocolError('chunk line too long'));
        if (lf === -1) return;
        const line = s.line.replace(/\r?\n$/, '');
        s.line = '';
        if (s.phase === 'data-end') {
          if (line !== '') return fail(protocolError('no CRLF after chunk data'));
          s.phase = 'size';
        } else if (s.phase === 'size') {
          const m = /^([0-9a-fA-F]{1,12})(?:\s*;.*)?$/.exec(line);
          if (m === null) return fail(protocolError(`chunk size ${JSON.stringify(line.slice(0, 40))}`));
          s.left = parseInt(m[1], 16);
          if (s.left === 0) s.phase = 'trailer';
        } else if (line === '') {
          return finish(); // the blank line after the trailer fields
        }
      }
    };

    const onHead = (data: Buffer) => {
      head = Buffer.concat([head!, data]);
      for (;;) {
        const end = head.indexOf('\r\n\r\n');
        if (end > MAX_HEAD || (end === -1 && head.length > MAX_HEAD)) return fail(protocolError(`header fields longer than ${MAX_HEAD} bytes`));
        if (end === -1) return;
        const parsed = parseHead(head.toString('latin1', 0, end));
        const rest = head.subarray(end + 4);
        if (parsed.status >= 100 && parsed.status < 200) {
          head = Buffer.from(rest); // an interim answer: the real one follows
          continue;
        }
        framing = framingOf(parsed.status, parsed.headers);
        head = undefined;
        response = {
          status: parsed.status,
          headers: parsed.headers,
          body: { [Symbol.asyncIterator]: iterate },
          destroy: () => {
            if (!ended && failure === undefined) fail(Object.assign(new Error('response destroyed'), { code: 'ECONNRESET' }));
          },
        };
        resolveHead(response);
        if (framing.kind === 'none' || (framing.kind === 'length' && framing.left === 0)) finish();
        else if (rest.length > 0) onBody(rest);
        return;
      }
    };

    async function* iterate(): AsyncGenerator<Buffer> {
      for (;;) {
        const chunk = queue.shift();
        if (chunk !== undefined) {
          queued -= chunk.length;
          if (paused && queued < HIGH_WATER / 2) {
            paused = false;
            socket.resume();
          }
          yield chunk;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }

    const socket = connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 80),
      timeout: idleTimeout,
      onread: {
        buffer: () => {
          if (buffer.length - used < MIN_READ) {
            buffer = Buffer.allocUnsafeSlow(BUFFER);
            used = 0;
          }
          return buffer.subarray(used);
        },
        callback: (n: number, into: Uint8Array) => {
          const data = Buffer.from(into.buffer, into.byteOffset, n);
          used += n;
          try {
            if (head !== undefined) onHead(data);
            else if (!ended && failure === undefined) onBody(data);
          } catch (error) {
            fail(error as Error);
          }
          if (queued >= HIGH_WATER && !ended && failure === undefined) {
            paused = true;
            return false;
          }
          return true;
        },
      },
    });
    socket.on('connect', () => socket.write(request));
    socket.on('timeout', () => fail(Object.assign(new Error(`no answer for ${idleTimeout / 1000} s`), { code: 'ETIMEDOUT' })));
    socket.on('error', (error) => fail(error));
    socket.on('end', () => {
      if (head !== undefined) fail(protocolError(head.length === 0 ? 'connection closed before an answer' : 'connection closed in the header fields'));
      else if (framing?.kind === 'close') finish();
      else if (!ended) {
        const expected = framing?.kind === 'length' ? ` of ${received + framing.left}` : '';
        fail(Object.assign(new Error(`connection closed after ${received}${expected} body bytes`), { code: 'ECONNRESET' }));
      }
    });
    socket.on('close', () => {
      if (!ended) fail(Object.assign(new Error(`connection closed after ${received} body bytes`), { code: 'ECONNRESET' }));
    });
  });
}
