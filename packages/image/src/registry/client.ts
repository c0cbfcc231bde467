// One registry, spoken to over the OCI distribution API (/v2/…). Handles the scheme (plain HTTP for
// loopback registries, as docker allows them without configuration), authentication challenges
// (auth.ts) and turns failures into one-line errors that name the registry, the request and the
// registry's own error code.
import { ImageError } from '../errors.js';
import { basicHeader, fetchToken, parseChallenge, type Credentials } from './auth.js';
import { httpRequest, requestFailure, type HttpResponse } from './http.js';

export interface RegistryOptions {
  credentials?: Credentials;
  /** Force http:// or https://; by default http for localhost and 127.0.0.0/8, https otherwise. */
  plainHttp?: boolean;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** `repository:<path>:pull` or `…:pull,push`. */
  scope: string;
  /** Statuses that are not errors; default: 2xx. */
  ok?: number[];
}

function isLoopback(domain: string): boolean {
  const host = domain.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export class RegistryClient {
  readonly base: string;
  /** Authorization header per scope (bearer) or for everything (basic). */
  private readonly auth = new Map<string, string>();

  constructor(
    readonly domain: string,
    private readonly options: RegistryOptions = {},
  ) {
    // Docker Hub's API lives on registry-1.docker.io.
    const host = domain === 'docker.io' ? 'registry-1.docker.io' : domain;
    this.base = `${(options.plainHttp ?? isLoopback(domain)) ? 'http' : 'https'}://${host}`;
  }

  url(path: string): string {
    return path.startsWith('http://') || path.startsWith('https://') ? path : `${this.base}${path}`;
  }

  private authFor(scope: string): string | undefined {
    return this.auth.get(scope) ?? this.auth.get('*');
  }

  /** Sends a request, answering one auth challenge; throws an ImageError for unexpected statuses. */
  async request(path: string, options: RequestOptions): Promise<HttpResponse> {
    const method = options.method ?? 'GET';
    let used: string | undefined;
    const send = async () => {
      const headers = { ...options.headers };
      used = this.authFor(options.scope);
      if (used) headers.authorization = used;
      try {
        return await httpRequest(this.url(path), { method, headers, body: options.body });
      } catch (error) {
        throw new ImageError('EREGISTRY_UNREACHABLE', `${method} ${this.url(path)}: ${requestFailure(error)}`, { cause: error });
      }
    };
    let response = await send();
    if (response.status === 401) {
      const header = response.headers.get('www-authenticate');
      response.cancel();
      // A concurrent request may have authenticated meanwhile: then only resend.
      if (this.authFor(options.scope) === used) {
        if (header === null || used?.startsWith('Basic')) throw await this.failure(method, path, response);
        const challenge = parseChallenge(header);
        if (challenge.scheme === 'basic') {
          if (!this.options.credentials) throw new ImageError('EREGISTRY_AUTH', `${this.domain} needs a user name and password (basic auth); give them with --creds USER:PASSWORD`);
          this.auth.set('*', basicHeader(this.options.credentials));
        } else if (challenge.scheme === 'bearer') {
          this.auth.set(options.scope, await fetchToken(challenge, options.scope, this.options.credentials, this.domain));
        } else {
          throw new ImageError('EREGISTRY_AUTH', `${this.domain}: unsupported authentication scheme "${challenge.scheme}"`);
        }
      }
      response = await send();
    }
    if (response.ok || options.ok?.includes(response.status)) return response;
    throw await this.failure(method, path, response);
  }

  private async failure(method: string, path: string, response: HttpResponse): Promise<ImageError> {
    let detail = '';
    try {
      const body = (await response.json()) as { errors?: Array<{ code?: string; message?: string }> };
      detail = (body.errors ?? []).map((e) => `${e.code}: ${e.message}`).join('; ');
    } catch {
      // not a distribution error body
    }
    const code = response.status === 401 || response.status === 403 ? 'EREGISTRY_AUTH' : 'EREGISTRY_HTTP';
    const who = response.status === 401 && this.options.credentials ? ` (as ${this.options.credentials.username})` : '';
    return new ImageError(code, `${method} ${this.url(path)}${who}: HTTP ${response.status}${detail ? ` ${detail}` : ''}`, { details: { status: response.status } });
  }
}
