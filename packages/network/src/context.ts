// What every operation works with: the records under the isola root, and the host namespace they
// describe (this process's own, or a test's).
import { Firewall } from './ports/firewall.js';
import { NetworkHost } from './host/host.js';
import { NetworkStore } from './store/store.js';

export interface NetworkOptions {
  /** isola's state directory; networks live in <root>/networks. */
  root: string;
  /** The network namespace that plays the host (a path like /run/netns/x); default: this process's own. */
  hostNetns?: string;
}

export interface NetworkContext {
  store: NetworkStore;
  host: NetworkHost;
  firewall: Firewall;
}

export function networkContext(options: NetworkOptions): NetworkContext {
  const host = new NetworkHost(options.hostNetns);
  return { store: new NetworkStore(options.root), host, firewall: new Firewall(host) };
}
