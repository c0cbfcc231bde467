// Test-only: Debian's docker-registry on 127.0.0.1 and a random free port, its config and storage in
// a temp directory; and a proxy in front of it that can demand bearer tokens (serving them itself)
// and cut a blob download half-way, to test token auth and resumed downloads against the real server.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface TestRegistry {
  port: number;
  /** `127.0.0.1:PORT`, the reference domain. */
  domain: string;
  stop(): Promise<void>;
}

export async function startRegistry(options: { user?: string; password?: string } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'isola-registry-'));
  const port = await freePort();
  let auth = '';
  if (options.user) {
    const { stdout } = await run('htpasswd', ['-nbB', options.user, options.password ?? '']);
    await writeFile(join(dir, 'htpasswd'), stdout);
    auth = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  await writeFile(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (response.status === 200 || response.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    domain: `127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface TestProxy {
  domain: string;
  /** Requests seen: method, path and Range header. */
  seen: Array<{ method: string; path: string; range?: string; auth?: string }>;
  stop(): Promise<void>;
}

/**
 * Forwards to `target` (host:port). With `token`, /v2/ requests need `Bearer <token>`, which
 * GET /token hands out. With `cutAfter`, the first GET of each blob is cut after that many bytes.
 */
export async function startProxy(target: string, options: { token?: string; cutAfter?: number } = {}): Promise<TestProxy> {
  const port = await freePort();
  const seen: TestProxy['seen'] = [];
  const cut = new Set<string>();
  const [targetHost, targetPort] = target.split(':');
  const server: Server = createHttpServer((req, res) => {
    const path = req.url ?? '/';
    seen.push({ method: req.method ?? '', path, range: req.headers.range, auth: req.headers.authorization });
    if (options.token !== undefined) {
      if (path.startsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: options.token }));
        return;
      }
      if (req.headers.authorization !== `Bearer ${options.token}`) {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="isola-test",scope="repository:x:pull"`, 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const upstream = httpRequest({ host: targetHost, port: Number(targetPort), method: req.method, path, headers }, (up) => {
      const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(path);
      if (options.cutAfter !== undefined && isBlob && up.statusCode === 200 && !cut.has(path)) {
        cut.add(path);
        res.writeHead(200, up.headers);
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          if (sent >= options.cutAfter!) return;
          const part = chunk.subarray(0, options.cutAfter! - sent);
          sent += part.length;
          res.write(part);
          if (sent >= options.cutAfter!) {
            up.destroy();
            // Let the client take in what was sent before the connection drops.
            setTimeout(() => res.socket?.destroy(), 100);
          }
        });
        up.on('end', () => res.end());
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    domain: `127.0.0.1:${port}`,
    seen,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
