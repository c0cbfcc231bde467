// `isola vm rm [-f]`: deletes a stopped VM's directory and frees its name; with force, a running VM's
// monitor is killed first.
import { hypervisorError } from '../errors.js';
import { observeVm } from './observe.js';
import { killMonitor } from './stop.js';
import { VmStore } from './store.js';

export async function removeVm(ref: string, options: { force?: boolean; root?: string } = {}): Promise<{ id: string; name: string }> {
  const store = new VmStore(options.root);
  const id = store.resolve(ref);
  const observed = observeVm(store, id);
  if (observed.status !== 'stopped') {
    if (!options.force) throw hypervisorError('EVM_RUNNING', `VM ${observed.config.name} is ${observed.status}: stop it first, or remove it with -f`, { id });
    await killMonitor(observed.record!);
  }
  store.remove(id);
  return { id, name: observed.config.name };
}
