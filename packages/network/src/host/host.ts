// The host side of every network operation: rtnetlink, sysctls, nft and port probes, all in one network
// namespace, the host's own by default. Tests (and anyone nesting isola) pass another namespace's path,
// so the whole library can be exercised inside namespaces a test creates and removes.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { IsolaError } from '@isola/errors';
import { canBind, RtNetlink, type InetProtocol } from '@isola/sys';
import { withNetns } from '../netns/netns.js';

const NFT_CANDIDATES = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'];

export class NetworkHost {
  /** `netns`: the path of the namespace that plays the host (undefined: this process's own). */
  constructor(readonly netns?: string) {}

  /** Runs `fn` with a route socket of the host namespace. */
  route<T>(fn: (rt: RtNetlink) => T): T {
    return NetworkHost.routeIn(this.netns, fn);
  }

  /** Runs `fn` with a route socket of the namespace at `path` (a container's; undefined: this process's own). */
  static routeIn<T>(path: string | undefined, fn: (rt: RtNetlink) => T): T {
    const rt = withNetns(path, () => RtNetlink.open());
    try {
      return fn(rt);
    } finally {
      rt.close();
    }
  }

  /** Writes /proc/sys/<name with dots as slashes> in the host namespace ("net.ipv4.ip_forward"). */
  sysctl(name: string, value: string): void {
    const path = `/proc/sys/${name.replaceAll('.', '/')}`;
    withNetns(this.netns, () => {
      try {
        writeFileSync(path, value);
      } catch (error) {
        throw new IsolaError('ESYSCTL', `set ${name}=${value}: ${(error as Error).message}`, { cause: error });
      }
    });
  }

  canBind(address: string, port: number, protocol: InetProtocol): boolean {
    return withNetns(this.netns, () => canBind(address, port, protocol));
  }

  /** The nft executable, or undefined when nftables is not installed. */
  nftPath(): string | undefined {
    for (const path of NFT_CANDIDATES) {
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // not here
      }
    }
    return undefined;
  }

  /** Runs `nft args...` (with `input` on stdin) in the host namespace; returns its stdout. */
  nft(args: readonly string[], input?: string): string {
    const nft = this.nftPath();
    if (!nft) throw new IsolaError('ENONFT', 'publishing ports and masquerading need nft (the Debian package nftables), which is not installed');
    const result = withNetns(this.netns, () => spawnSync(nft, args, { input, encoding: 'utf8' }));
    if (result.error) throw new IsolaError('ENFT', `nft ${args.join(' ')}: ${result.error.message}`, { cause: result.error });
    if (result.status !== 0) {
      const detail = result.stderr.trim().split('\n')[0] ?? '';
      throw new IsolaError('ENFT', `nft ${args.join(' ')} failed (exit ${result.status}): ${detail}`, { details: { input, stderr: result.stderr } });
    }
    return result.stdout;
  }
}
