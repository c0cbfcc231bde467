import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { type Check, check } from '../check.js';

export interface OverlayDetails {
  loaded: boolean;
  module: boolean;
}

export function probeOverlay(): Check<OverlayDetails> {
  const loaded = /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  const dir = `/lib/modules/${release()}/kernel/fs/overlayfs`;
  const module = !loaded && existsSync(dir);
  if (loaded) return check('ok', false, 'overlay filesystem available', { loaded, module });
  if (module) return check('ok', false, 'overlay available as a module (loaded on first mount)', { loaded, module });
  return check('warn', false, 'no overlay filesystem: container root filesystems will be copied', { loaded, module });
}
