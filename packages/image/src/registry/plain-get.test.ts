import { createHash, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { plainGet } from './plain-get.js';

// A raw TCP server on 127.0.0.1 that answers each connection with `answer`, after reading the
// request's header fields (kept in `requests`): the responses are written byte for byte as given.
const servers: Server[] = [];
const requests: string[] = [];

async function serve(answer: (socket: Socket) => unknown): Promise<URL> {
  const server = createServer((socket) => {
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      requests.push(head);
      void answer(socket);
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/x/blobs/sha256:ab?n=1`);
}

afterEach(async () => {
  requests.length = 0;
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

async function bodyOf(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('plainGet', () => {
  it('sends a GET with Host and the given fields, and reads a Content-Length body of many MiB exactly', async () => {
    const blob = randomBytes(5 * 1024 * 1024 + 123);
    const url = await serve((s) => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${blob.length}\r\nX-Dup: a\r\nX-Dup: b\r\n\r\n`);
      // and a few stray bytes after the body, which are not part of it
      s.end(Buffer.concat([blob, Buffer.from('junk')]));
    });
    const response = await plainGet(url, { authorization: 'Bearer t', range: 'bytes=0-' }, 5000);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.headers['x-dup']).toBe('a, b');
    const got = await bodyOf(response.body);
    expect(got.length).toBe(blob.length);
    expect(sha(got)).toBe(sha(blob));
    const [line, ...fields] = requests[0].split('\r\n');
    expect(line).toBe('GET /v2/x/blobs/sha256:ab?n=1 HTTP/1.1');
    expect(fields).toEqual(expect.arrayContaining([`Host: ${url.host}`, 'Connection: close', 'authorization: Bearer t', 'range: bytes=0-']));
  });

  it('decodes a chunked body sent a few bytes at a time, with extensions and trailer fields, after a 100 Continue', async () => {
    const url = await serve(async (s) => {
      const text = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n';
      for (let i = 0; i < text.length; i += 3) {
        s.write(text.slice(i, i + 3));
        await pause(1);
      }
      // The connection stays open: the body ends with its last chunk, not with the connection.
    });
    const response = await plainGet(url, {}, 5000);
    expect(response.status).toBe(200);
    expect((await bodyOf(response.body)).toString()).toBe('hello 0123456789');
  });

  it('reads a body delimited by the end of the connection, and gives 204 and Content-Length: 0 empty bodies', async () => {
    const closeUrl = await serve((s) => s.end('HTTP/1.0 200 OK\r\n\r\nuntil the end'));
    expect((await bodyOf((await plainGet(closeUrl, {}, 5000)).body)).toString()).toBe('until the end');
    const noContent = await serve((s) => s.write('HTTP/1.1 204 No Content\r\n\r\n'));
    expect((await bodyOf((await plainGet(noContent, {}, 5000)).body)).length).toBe(0);
    const empty = await serve((s) => s.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    const response = await plainGet(empty, {}, 5000);
    expect(response.status).toBe(404);
    expect((await bodyOf(response.body)).length).toBe(0);
  });

  it('fails the body, naming how far it got, when the connection ends before Content-Length bytes', async () => {
    const url = await serve((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789'));
    const response = await plainGet(url, {}, 5000);
    await expect(bodyOf(response.body)).rejects.toMatchObject({ code: 'ECONNRESET', message: 'connection closed after 10 of 100 body bytes' });
  });

  it('keeps every byte when the reader is slower than the socket (the socket pauses and resumes)', async () => {
    const blob = randomBytes(12 * 1024 * 1024);
    const url = await serve((s) => s.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${blob.length}\r\n\r\n`), blob])));
    const response = await plainGet(url, {}, 5000);
    await pause(200); // everything the socket can take arrives before the first chunk is read
    const hash = createHash('sha256');
    let n = 0;
    for await (const chunk of response.body) {
      hash.update(chunk);
      n += chunk.length;
      if (n % 7 === 0) await pause(0);
    }
    expect(n).toBe(blob.length);
    expect(hash.digest('hex')).toBe(sha(blob));
  });

  it('refuses what is not HTTP/1.x, over-long header fields, bad framing and bad chunk sizes', async () => {
    const cases = [
      'SSH-2.0-OpenSSH_9.2\r\n\r\n',
      `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`,
      'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n',
      'HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n',
    ];
    for (const text of cases) {
      const url = await serve((s) => s.end(text));
      await expect(plainGet(url, {}, 5000), text.slice(0, 40)).rejects.toMatchObject({ code: 'EPROTO' });
    }
    const badChunk = await serve((s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n'));
    await expect(bodyOf((await plainGet(badChunk, {}, 5000)).body)).rejects.toMatchObject({ code: 'EPROTO', message: 'malformed HTTP response: chunk size "zz"' });
    const silentClose = await serve((s) => s.end());
    await expect(plainGet(silentClose, {}, 5000)).rejects.toMatchObject({ code: 'EPROTO', message: 'malformed HTTP response: connection closed before an answer' });
  });

  it('sends nothing for a header value that would start a new field, and gives up on a silent server', async () => {
    const url = await serve((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    await expect(plainGet(url, { authorization: 'Bearer x\r\nX-Injected: 1' }, 5000)).rejects.toMatchObject({ code: 'ERR_INVALID_CHAR' });
    await pause(50);
    expect(requests).toEqual([]);
    const silent = await serve(() => undefined);
    await expect(plainGet(silent, {}, 200)).rejects.toMatchObject({ code: 'ETIMEDOUT', message: 'no answer for 0.2 s' });
  });

  it('ends an iteration in progress when the response is destroyed', async () => {
    const url = await serve((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc'));
    const response = await plainGet(url, {}, 5000);
    const reading = bodyOf(response.body);
    await pause(20);
    response.destroy();
    await expect(reading).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});
