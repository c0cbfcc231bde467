// Which containers use a volume: their records name it (store.ts's config.mounts), running or not, as
// docker counts a volume in use by any container that exists.
import type { ContainerStore } from '../containers/store.js';

export function volumeUsers(containers: ContainerStore, name: string): string[] {
  const users: string[] = [];
  for (const id of containers.ids()) {
    try {
      if (containers.config(id).mounts?.some((m) => m.type === 'volume' && m.name === name)) users.push(id);
    } catch {
      // removed while looking
    }
  }
  return users;
}
