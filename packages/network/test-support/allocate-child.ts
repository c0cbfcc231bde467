// A second isola process for the IPAM race test: says "ready", waits for <root>/go (so that both
// processes start at the same moment), then connects N containers (namespaces made here) to a network
// and prints the address each got.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, Networks } from '@isola/network';

const [root, hostNetns, network, tag, count] = process.argv.slice(2) as [string, string, string, string, string];
const nets = new Networks({ root, hostNetns });
process.stdout.write('ready\n');
const pause = new Int32Array(new SharedArrayBuffer(4));
while (!existsSync(join(root, 'go'))) Atomics.wait(pause, 0, 0, 2);
for (let i = 0; i < Number(count); i++) {
  const id = `${tag}${i}`.padEnd(64, '0');
  const ns = createNetns(join(root, 'netns', `${tag}${i}`));
  const ep = nets.connect(network, { id, name: `${tag}${i}` }, ns);
  process.stdout.write(`${ep.ip}\n`);
}
