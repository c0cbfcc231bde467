// `update`'s flag parsing and resource merging: pure, no container needed.
import { describe, expect, it } from 'vitest';
import { mergeResources } from '../container/update.js';
import { parseArgs } from './args.js';
import { UPDATE_FLAGS, parseBytes, updateResources } from './update.js';

const parse = (...argv: string[]) => parseArgs(argv, UPDATE_FLAGS, 'isola-runtime update');

describe('update', () => {
  it('reads byte counts as runc does', () => {
    expect(parseBytes('1048576', 'memory')).toBe(1048576);
    expect(parseBytes('512m', 'memory')).toBe(512 * 1024 * 1024);
    expect(parseBytes('1.5G', 'memory')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('-1', 'memory-swap')).toBe(-1);
    expect(() => parseBytes('12 parsecs', 'memory')).toThrow('--memory "12 parsecs": expected bytes, e.g. 536870912 or 512m');
  });

  it('puts flags on top of --resources JSON', () => {
    const resources = updateResources(parse('--resources', '-', '--memory', '64m', '--cpu-quota', '50000', 'id'), () => '{"memory":{"reservation":1024},"pids":{"limit":5}}');
    expect(resources).toEqual({ memory: { reservation: 1024, limit: 64 * 1024 * 1024 }, cpu: { quota: 50000 }, pids: { limit: 5 } });
    expect(() => updateResources(parse('--resources', '-', 'id'), () => '[1]')).toThrow('--resources -: expected a linux.resources object');
    expect(() => updateResources(parse('--pids-limit', 'many', 'id'))).toThrow('--pids-limit "many": expected an integer');
    expect(() => parse('--l3-cache-schema', 'x', 'id')).toThrow('--l3-cache-schema is not supported by isola-runtime');
  });

  it('merges changes field by field over the current resources', () => {
    expect(mergeResources({ memory: { limit: 1, swap: 2 }, pids: { limit: 3 } }, { memory: { limit: 10 } })).toEqual({ memory: { limit: 10, swap: 2 }, pids: { limit: 3 } });
  });
});
