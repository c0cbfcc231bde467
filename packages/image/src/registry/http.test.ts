import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpRequest } from './http.js';

const servers: Server[] = [];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('httpRequest', () => {
  it('follows redirects, and does not carry Authorization to another origin', async () => {
    const seen: Array<string | undefined> = [];
    const storage = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.end('blob bytes');
    });
    const registry = await serve((req, res) => {
      if (req.url === '/same') {
        res.writeHead(307, { location: '/other' }).end();
      } else if (req.url === '/other') {
        seen.push(req.headers.authorization);
        res.writeHead(302, { location: `${storage}/blob` }).end();
      }
    });
    const response = await httpRequest(`${registry}/same`, { headers: { authorization: 'Bearer secret' } });
    expect(response.status).toBe(200);
    expect(response.url).toBe(`${storage}/blob`);
    expect((await response.bytes()).toString()).toBe('blob bytes');
    expect(seen).toEqual(['Bearer secret', undefined]);
  });

  it('turns a 303 after a PUT into a GET without a body', async () => {
    const seen: string[] = [];
    const base = await serve((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        if (req.url === '/upload') res.writeHead(303, { location: '/done' }).end();
        else res.end('{"ok":true}');
      });
    });
    const response = await httpRequest(`${base}/upload`, { method: 'PUT', body: Buffer.from('data') });
    expect(await response.json()).toEqual({ ok: true });
    expect(seen).toEqual(['PUT /upload data', 'GET /done ']);
  });

  it('streams GET bodies and reads the others whole, so that an ignored answer frees its socket', async () => {
    const base = await serve((req, res) => res.writeHead(201, { location: '/next', 'docker-content-digest': 'sha256:x' }).end(req.method === 'GET' ? 'a'.repeat(1 << 20) : 'created'));
    const got = await httpRequest(`${base}/b`);
    let n = 0;
    for await (const chunk of got.body) n += chunk.length;
    expect(n).toBe(1 << 20);
    const put = await httpRequest(`${base}/p`, { method: 'PUT', body: Buffer.alloc(10) });
    expect(put.ok).toBe(true);
    expect(put.headers.get('Docker-Content-Digest')).toBe('sha256:x');
    expect((await put.bytes()).toString()).toBe('created');
  });

  it('fails with the errno of a refused connection, and refuses redirect loops', async () => {
    const closed = await serve(() => {});
    const port = new URL(closed).port;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    await expect(httpRequest(`http://127.0.0.1:${port}/v2/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const loop = await serve((_req, res) => res.writeHead(302, { location: '/again' }).end());
    await expect(httpRequest(`${loop}/start`)).rejects.toMatchObject({ code: 'EREDIRECT' });
    await expect(httpRequest('ftp://127.0.0.1/x')).rejects.toMatchObject({ code: 'EPROTO' });
  });
  it('gives up on a server that accepts the request and never answers, naming the silence', async () => {
    const silent = await serve(() => undefined);
    await expect(httpRequest(`${silent}/v2/`, { idleTimeout: 200 })).rejects.toMatchObject({ code: 'ETIMEDOUT', message: 'no answer for 0.2 s' });
  });
});
