import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { canBind } from './inet.js';

describe('canBind', () => {
  it('tells a free port from one a listener holds, and names an address the host lacks', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      expect(canBind('127.0.0.1', port, 'tcp')).toBe(false);
      expect(canBind('127.0.0.1', port, 'udp')).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(canBind('127.0.0.1', port, 'tcp')).toBe(true);
    expect(() => canBind('192.0.2.254', port, 'tcp')).toThrow(`bind(192.0.2.254:${port}/tcp): EADDRNOTAVAIL`);
  });
});
