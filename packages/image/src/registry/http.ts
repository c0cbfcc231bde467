// HTTP for the registry client, on node:http and node:https rather than fetch. Measured here on a
// 34 MB pull: Node 20's fetch (undici, web streams, an llhttp WASM parser, ~1 MB of JS compiled on
// first use) took 1.7-2.4 s cold where node:http took ~0.7 s; a CLI process is always cold.
// The response body is the IncomingMessage itself: an AsyncIterable of Buffers, no copies.
// GET over http: goes through plain-get.ts instead, which reads a body into large buffers (a layer
// from a registry on 127.0.0.1 arrives 3-5 times faster).
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent as HttpAgent, request as plainRequest } from 'node:http';
import { Agent as HttpsAgent, request as tlsRequest } from 'node:https';
import { plainGet } from './plain-get.js';

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Milliseconds the connection may stay silent (connecting, waiting for an answer, in a body) before the request fails. */
  idleTimeout?: number;
}

/**
 * A registry that accepts the connection and never answers would otherwise hang a pull for ever;
 * docker gives up on such a server too. Generous, since a registry may be slow to start a big blob.
 */
export const IDLE_TIMEOUT_MS = 60_000;

export interface HttpResponse {
  status: number;
  ok: boolean;
  url: string;
  headers: { get(name: string): string | null };
  /** The body as it arrives; iterate it once, or `cancel` it. */
  body: AsyncIterable<Buffer>;
  bytes(): Promise<Buffer>;
  json(): Promise<unknown>;
  cancel(): void;
}

const MAX_REDIRECTS = 10;
// Idle keep-alive sockets are unref'd by the agent: they do not keep the process alive.
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

function headerGetter(headers: IncomingHttpHeaders): HttpResponse['headers'] {
  return {
    get(name: string) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** A response as either transport gives it. */
interface Incoming {
  status: number;
  headers: IncomingHttpHeaders;
  body: AsyncIterable<Buffer>;
  /** Drops the body (a redirect's): node:http's socket then goes back to its agent. */
  discard(): void;
  destroy(): void;
}

function incoming(message: IncomingMessage): Incoming {
  return { status: message.statusCode ?? 0, headers: message.headers, body: message, discard: () => message.resume(), destroy: () => message.destroy() };
}

async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts);
}

/**
 * Only GET bodies (manifests, blobs, tokens) are handed over as streams, and their readers consume
 * or cancel them. The answers to HEAD, POST, PUT and PATCH are small and often ignored: they are read
 * here, because an unread body keeps its socket busy and the process alive.
 */
async function responseOf(url: string, method: string, message: Incoming): Promise<HttpResponse> {
  const status = message.status;
  let buffered = method === 'GET' ? undefined : await readAll(message.body);
  const bytes = async () => (buffered ??= await readAll(message.body));
  return {
    status,
    ok: status >= 200 && status < 300,
    url,
    headers: headerGetter(message.headers),
    body: buffered === undefined ? message.body : (async function* (b: Buffer) { yield b; })(buffered),
    bytes,
    json: async () => JSON.parse((await bytes()).toString('utf8')) as unknown,
    cancel: () => message.destroy(),
  };
}

function send(url: URL, options: HttpRequestOptions): Promise<Incoming> {
  const https = url.protocol === 'https:';
  if (!https && url.protocol !== 'http:') return Promise.reject(Object.assign(new Error(`unsupported URL scheme ${url.protocol}`), { code: 'EPROTO' }));
  const headers: Record<string, string> = { ...options.headers };
  const idle = options.idleTimeout ?? IDLE_TIMEOUT_MS;
  if (!https && (options.method ?? 'GET') === 'GET' && options.body === undefined) {
    return plainGet(url, headers, idle).then((r) => ({ ...r, discard: r.destroy }));
  }
  if (options.body !== undefined) headers['content-length'] ??= String(options.body.length);
  return new Promise((resolve, reject) => {
    // As an option (not request.setTimeout, which starts once connected), the timer covers connecting too.
    const request = (https ? tlsRequest : plainRequest)(url, { method: options.method ?? 'GET', headers, agent: https ? agents.https : agents.http, timeout: idle }, (message) => resolve(incoming(message)));
    request.on('error', reject);
    request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer for ${idle / 1000} s`), { code: 'ETIMEDOUT' })));
    request.end(options.body);
  });
}

/**
 * One request, following redirects as fetch does: 303 (and 301/302 after a POST) turn into a GET
 * without a body, and the Authorization header is not sent to another origin (blob downloads are
 * often redirected to a storage service that must not see the registry's credentials).
 */
/** What a failed request says: the errno code, or the whole message where it says more (our own timeout). */
export function requestFailure(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  return code === undefined || (message?.startsWith('no answer') ?? false) ? (message ?? String(error)) : code;
}

export async function httpRequest(target: string | URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  let url = new URL(target);
  let current = { ...options, headers: { ...options.headers } };
  for (let hops = 0; ; hops++) {
    const message = await send(url, current);
    const status = message.status;
    const location = message.headers.location;
    if (![301, 302, 303, 307, 308].includes(status) || location === undefined) return responseOf(url.toString(), current.method ?? 'GET', message);
    message.discard();
    if (hops >= MAX_REDIRECTS) throw Object.assign(new Error(`more than ${MAX_REDIRECTS} redirects`), { code: 'EREDIRECT' });
    const next = new URL(location, url);
    const method = current.method ?? 'GET';
    if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
      current = { method: method === 'HEAD' ? 'HEAD' : 'GET', headers: { ...current.headers }, idleTimeout: current.idleTimeout };
      delete current.headers['content-length'];
      delete current.headers['content-type'];
    }
    if (next.origin !== url.origin) delete current.headers.authorization;
    url = next;
  }
}
