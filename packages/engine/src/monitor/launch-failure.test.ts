import { describe, expect, it } from 'vitest';
import { describeEnd, launcherFailureReason } from './launch-failure.js';

describe('launcherFailureReason', () => {
  it('names the uncaught error, not the source line Node prints above it', () => {
    const stderr = [
      '/opt/isola/packages/engine/dist/launch.cjs:120',
      '    throw new TypeError("bad order");',
      '    ^',
      '',
      'TypeError: bad order',
      '    at main (/opt/isola/packages/engine/dist/launch.cjs:120:11)',
      '',
      'Node.js v20.20.2',
    ].join('\n');
    expect(launcherFailureReason(stderr)).toBe('TypeError: bad order');
  });

  it('names a module that could not be loaded (a dist rebuilt under a running command)', () => {
    const stderr = "node:internal/modules/cjs/loader:1228\n  throw err;\n  ^\n\nError: Cannot find module './launch-dist.cjs'\nRequire stack:\n- /x/dist/launch.cjs\n    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15) {\n  code: 'MODULE_NOT_FOUND'\n}\n\nNode.js v20.20.2\n";
    expect(launcherFailureReason(stderr)).toBe("Error: Cannot find module './launch-dist.cjs'");
  });

  it('keeps error codes in brackets', () => {
    expect(launcherFailureReason('Error [ERR_SOCKET_CLOSED]: Socket is closed\n    at x (y:1:1)\n')).toBe('Error [ERR_SOCKET_CLOSED]: Socket is closed');
  });

  it('falls back to the last line that is not a stack frame, and ignores timing lines', () => {
    expect(launcherFailureReason('isola-timing: launcher loaded at 80.0 ms\nFATAL ERROR: Reached heap limit\n    at foo (bar:1:1)\n')).toBe('FATAL ERROR: Reached heap limit');
  });

  it('says nothing when there was nothing, and cuts a very long line', () => {
    expect(launcherFailureReason('')).toBeUndefined();
    expect(launcherFailureReason('isola-timing: launcher loaded at 1.0 ms\n')).toBeUndefined();
    expect(launcherFailureReason(`Error: ${'x'.repeat(1000)}`)!.length).toBe(301);
  });
});

describe('describeEnd', () => {
  it('gives the status, or the signal', () => {
    expect(describeEnd(1, null)).toBe('ended (status 1)');
    expect(describeEnd(null, 'SIGKILL')).toBe('was killed by SIGKILL');
  });
});
