// One function per CLI command, each opening the store where isola keeps it ($ISOLA_ROOT, else
// /var/lib/isola) and returning what the command prints. The commands in apps/cli stay thin: flags
// in, one call, output out.
import type { Readable, Writable } from 'node:stream';
import { ImageError } from './errors.js';
import type { Credentials } from './registry/auth.js';
import { ProgressBars } from './registry/progress.js';
import { pullImage } from './registry/pull.js';
import { pushImage } from './registry/push.js';
import type { Platform } from './store/oci.js';
import { formatImagesTable, humanSize, imageRows, type ImageRow } from './report/images-table.js';
import { shortId } from './store/digest.js';
import { inspectImage, type ImageInspect } from './store/inspect.js';
import { familiarName } from './store/reference.js';
import { ImageStore, type StoreOptions } from './store/store.js';
import { loadImage } from './transfer/load.js';
import { saveImages, type SaveFormat } from './transfer/save.js';

export async function listImages(options: StoreOptions & { format?: 'table' | 'json'; quiet?: boolean } = {}): Promise<string> {
  const store = await ImageStore.open(options);
  const rows: ImageRow[] = imageRows(await store.images());
  if (options.quiet) return [...new Set(rows.map((r) => shortId(r.Id)))].join('\n');
  if (options.format === 'json') return JSON.stringify(rows, null, 2);
  return formatImagesTable(rows);
}

/** `Untagged: busybox:latest` / `Deleted: sha256:…` lines, as docker rmi prints them. */
export async function removeImages(refs: string[], options: StoreOptions & { force?: boolean } = {}): Promise<string> {
  const store = await ImageStore.open(options);
  const result = await store.remove(refs, { force: options.force });
  return [...result.untagged.map((t) => `Untagged: ${familiarName(t)}`), ...result.deleted.map((d) => `Deleted: ${d}`), ...result.gc.deletedBlobs.filter((d) => !result.deleted.includes(d)).map((d) => `Deleted: ${d}`)].join('\n');
}

export async function tagImage(source: string, target: string, options: StoreOptions = {}): Promise<string> {
  const store = await ImageStore.open(options);
  return familiarName(await store.tag(source, target));
}

export async function inspectImages(refs: string[], options: StoreOptions = {}): Promise<ImageInspect[]> {
  const store = await ImageStore.open(options);
  const out: ImageInspect[] = [];
  for (const ref of refs) out.push(await inspectImage(store, ref));
  return out;
}

export async function pruneImages(options: StoreOptions & { all?: boolean } = {}): Promise<string> {
  const store = await ImageStore.open(options);
  const { deleted, gc } = await store.prune({ all: options.all });
  const lines = [...deleted.map((d) => `Deleted Images: ${d}`), ...gc.deletedLayers.map((d) => `Deleted Layer: ${d}`)];
  lines.push(`Total reclaimed space: ${humanSize(gc.reclaimedBytes)}`);
  return lines.join('\n');
}

export async function loadImages(input: string | Readable, options: StoreOptions & { tag?: string } = {}): Promise<string> {
  const store = await ImageStore.open(options);
  const result = await loadImage(store, input, { tag: options.tag });
  return result.images.map((i) => (i.names.length > 0 ? i.names.map((n) => `Loaded image: ${familiarName(n)}`).join('\n') : `Loaded image ID: ${i.record.config}`)).join('\n');
}

export async function saveImagesTo(refs: string[], output: string | Writable, options: StoreOptions & { format?: SaveFormat } = {}): Promise<void> {
  const store = await ImageStore.open(options);
  await saveImages(store, refs, { format: options.format, output });
}

function parseCreds(creds: string | undefined): Credentials | undefined {
  if (creds === undefined) return undefined;
  const colon = creds.indexOf(':');
  if (colon <= 0) throw new ImageError('EREGISTRY_AUTH', '--creds must be USER:PASSWORD');
  return { username: creds.slice(0, colon), password: creds.slice(colon + 1) };
}

export interface TransferCliOptions extends StoreOptions {
  /** USER:PASSWORD */
  creds?: string;
  plainHttp?: boolean;
  /** Where progress goes (bars on a TTY); stderr by default. */
  progress?: Writable & { isTTY?: boolean };
}

/** `isola pull`: progress on `progress`, returns the summary lines. */
export async function pullImageFrom(reference: string, options: TransferCliOptions & { platform?: string } = {}): Promise<string> {
  const store = await ImageStore.open(options);
  const bars = new ProgressBars(options.progress ?? process.stderr);
  let platform: Platform | undefined;
  if (options.platform !== undefined) {
    const [os, architecture, variant] = options.platform.split('/');
    platform = { os, architecture, variant };
  }
  const result = await pullImage(store, reference, { credentials: parseCreds(options.creds), plainHttp: options.plainHttp, platform, progress: bars.listener });
  bars.finish();
  return [`Digest: ${result.record.repoDigests[0]?.split('@')[1] ?? result.record.digest}`, `Downloaded ${result.downloaded} blobs (${result.skipped} already present): ${familiarName(result.name)}`].join('\n');
}

export async function pushImageTo(source: string, destination: string | undefined, options: TransferCliOptions = {}): Promise<string> {
  const store = await ImageStore.open(options);
  const bars = new ProgressBars(options.progress ?? process.stderr);
  const result = await pushImage(store, source, destination, { credentials: parseCreds(options.creds), plainHttp: options.plainHttp, progress: bars.listener });
  bars.finish();
  return `${familiarName(result.name)}: digest: ${result.digest} (${result.uploaded} blobs uploaded, ${result.skipped} already there)`;
}
