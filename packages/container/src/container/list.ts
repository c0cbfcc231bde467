// `list`: every container under the root, with its live status.
import { StateStore } from '../state/store.js';
import { type StateOutput, stateOutput } from './status.js';

export async function listContainers(root?: string): Promise<StateOutput[]> {
  const store = new StateStore(root);
  const states: StateOutput[] = [];
  for (const id of store.list()) {
    try {
      states.push(await stateOutput(store.read(id)));
    } catch {
      // removed while listing
    }
  }
  return states;
}

export async function containerState(id: string, root?: string): Promise<StateOutput> {
  return stateOutput(new StateStore(root).read(id));
}
