// `network rm NAME`: refused while containers are attached (docker: "has active endpoints") and for
// the default network; otherwise the record goes, and with it the bridge and masquerade rules if a
// crash left them behind (connect/disconnect normally remove them with the last container).
import { IsolaError } from '@isola/errors';
import type { NetworkContext } from '../context.js';
import { DEFAULT_NETWORK } from './create.js';
import { removeBridge } from '../endpoints/bridge.js';

export function removeNetwork(ctx: NetworkContext, ref: string): void {
  if (ref === DEFAULT_NETWORK || ref === 'host' || ref === 'none') throw new IsolaError('EPERM', `${ref} is a pre-defined network and cannot be removed`);
  ctx.store.locked(() => {
    const network = ctx.store.get(ref);
    if (network.isDefault) throw new IsolaError('EPERM', `${network.name} is a pre-defined network and cannot be removed`);
    const attached = Object.values(network.endpoints);
    if (attached.length > 0) {
      const names = attached.map((e) => e.containerName).join(', ');
      throw new IsolaError('EBUSY', `network ${network.name} has ${attached.length} attached container${attached.length === 1 ? '' : 's'} (${names}): disconnect or remove ${attached.length === 1 ? 'it' : 'them'} first`);
    }
    removeBridge(ctx, network);
    ctx.store.delete(network.name);
  });
}
