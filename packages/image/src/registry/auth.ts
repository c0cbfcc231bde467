// Registry authentication as the distribution spec and docker do it: the first request goes out
// bare; a 401's WWW-Authenticate header says how to authenticate. `Basic` means: send the user's
// credentials with every request. `Bearer realm=…,service=…,scope=…` means: ask the token server
// at `realm` (with the credentials, if any) for a token for that scope, then send the token.
import { ImageError } from '../errors.js';
import { httpRequest, requestFailure, type HttpResponse } from './http.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="https://a/token",service="reg",scope="repository:x:pull"` (one challenge). */
export function parseChallenge(header: string): Challenge {
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const m of (space === -1 ? '' : header.slice(space + 1)).matchAll(re)) params[m[1].toLowerCase()] = (m[2] ?? m[3]).replace(/\\(.)/g, '$1');
  return { scheme, params };
}

export function basicHeader(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** Asks a token server for a bearer token; returns the `Authorization` header value. */
export async function fetchToken(challenge: Challenge, scope: string, credentials: Credentials | undefined, registry: string): Promise<string> {
  const realm = challenge.params.realm;
  if (!realm) throw new ImageError('EREGISTRY_AUTH', `${registry}: Bearer challenge without a realm`);
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', challenge.params.scope ?? scope);
  const headers: Record<string, string> = {};
  if (credentials) headers.authorization = basicHeader(credentials);
  let response: HttpResponse;
  try {
    response = await httpRequest(url, { headers });
  } catch (error) {
    throw new ImageError('EREGISTRY_UNREACHABLE', `${registry}: token server ${url.origin}: ${requestFailure(error)}`, { cause: error });
  }
  if (!response.ok) {
    response.cancel();
    throw new ImageError('EREGISTRY_AUTH', `${registry}: token server ${url.origin} refused ${credentials ? `user ${credentials.username}` : 'anonymous access'}: HTTP ${response.status}`);
  }
  const body = (await response.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new ImageError('EREGISTRY_AUTH', `${registry}: token server ${url.origin} answered without a token`);
  return `Bearer ${token}`;
}
