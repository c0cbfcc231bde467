// Image references as docker spells them (distribution/reference's normalize.go): `busybox` means
// `docker.io/library/busybox:latest`, `me/app` means `docker.io/me/app:latest`, and a first component
// with a `.` or `:` or equal to `localhost` is a registry host (`127.0.0.1:5000/app`). Names are
// stored normalized; `familiarName` gives back the short form for tables.
import { ImageError } from '../errors.js';
import { isDigest } from './digest.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

export interface Reference {
  /** Registry host, with port: `docker.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Repository path inside the registry: `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

function invalid(text: string, why: string): ImageError {
  return new ImageError('EIMAGE_REFERENCE', `invalid image reference "${text}": ${why}`, { details: { reference: text } });
}

/** Parses and normalizes `text`; a reference with neither tag nor digest gets `latest`. */
export function parseReference(text: string, options: { defaultTag?: boolean } = {}): Reference {
  if (text === '' || text.length > 255 + 72) throw invalid(text, 'empty or too long');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    if (!isDigest(digest)) throw invalid(text, `digest "${digest}" is not sha256:<64 hex>`);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    if (!TAG.test(tag)) throw invalid(text, `tag "${tag}" must be letters, digits, _ . - (at most 128, not starting with . or -)`);
    rest = rest.slice(0, colon);
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  if (slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    if (!DOMAIN.test(first)) throw invalid(text, `registry "${first}" is not a host name`);
    domain = first === LEGACY_DOMAIN ? DEFAULT_DOMAIN : first;
    path = rest.slice(slash + 1);
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  if (path === '' || !path.split('/').every((c) => COMPONENT.test(c))) {
    throw invalid(text, 'repository names are lowercase letters, digits and separators (. _ __ -) between / components');
  }
  if (tag === undefined && digest === undefined && options.defaultTag !== false) tag = DEFAULT_TAG;
  return { domain, path, tag, digest };
}

/** `docker.io/library/busybox` */
export function repositoryOf(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The normalized text: `docker.io/library/busybox:latest`, `host/app@sha256:…`. */
export function formatReference(ref: Reference): string {
  return repositoryOf(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** `docker.io/library/busybox` → `busybox`, `docker.io/me/app` → `me/app`, others unchanged. */
export function familiarRepository(repository: string): string {
  if (!repository.startsWith(`${DEFAULT_DOMAIN}/`)) return repository;
  const path = repository.slice(DEFAULT_DOMAIN.length + 1);
  return path.startsWith(OFFICIAL_PREFIX) && path.indexOf('/', OFFICIAL_PREFIX.length) === -1 ? path.slice(OFFICIAL_PREFIX.length) : path;
}

/** `docker.io/library/busybox:latest` → `busybox:latest` */
export function familiarName(normalized: string): string {
  const ref = parseReference(normalized, { defaultTag: false });
  return familiarRepository(repositoryOf(ref)) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** A normalized `repository:tag` for a tag reference; an error for a digest-only one. */
export function normalizeTag(text: string): string {
  const ref = parseReference(text);
  if (ref.tag === undefined) throw invalid(text, 'a tag is needed here, not only a digest');
  return `${repositoryOf(ref)}:${ref.tag}`;
}
