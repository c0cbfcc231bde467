// Side by side: a container joining the default network with one published port and leaving again,
// (1) through @isola/network, (2) through the `ip` and `nft` commands doing the same steps (what a
// shell-script CNI setup does). All inside a network namespace made here; prints medians and the ratio.
// Run as root: node --import ./packages/network/test-support/ts-loader.mjs packages/network/bench/connect.mjs [rounds]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, Networks, parsePortMapping, removeNetns } from '@isola/network';

const rounds = Number(process.argv[2] ?? 20);
const dir = mkdtempSync(join(tmpdir(), 'isola-bench-net-'));
const host = createNetns(join(dir, 'host'));
const nets = new Networks({ root: join(dir, 'root'), hostNetns: host });
nets.get('bridge');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function isola(i) {
  const t = performance.now();
  const ns = createNetns(join(dir, `c${i}`));
  nets.connect('bridge', { id: `c${i}`.padEnd(64, '0'), name: `c${i}` }, ns, { ports: [parsePortMapping('8080:80')] });
  const up = performance.now() - t;
  nets.disconnect('bridge', `c${i}`.padEnd(64, '0'));
  removeNetns(ns);
  return [up, performance.now() - t];
}

function shell(i) {
  const h = (...a) => execFileSync('nsenter', [`--net=${host}`, ...a]);
  const t = performance.now();
  const name = `isolabench${i}`;
  execFileSync('ip', ['netns', 'add', name]);
  h('ip', 'link', 'add', 'refbr0', 'type', 'bridge');
  h('ip', 'addr', 'add', '10.66.0.1/16', 'dev', 'refbr0');
  h('ip', 'link', 'set', 'refbr0', 'up');
  h('sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.refbr0.route_localnet=1');
  h('ip', 'link', 'add', 'vethref', 'type', 'veth', 'peer', 'name', 'vtmpref');
  h('ip', 'link', 'set', 'vethref', 'master', 'refbr0', 'up');
  h('ip', 'link', 'set', 'vtmpref', 'netns', name);
  const c = (...a) => execFileSync('ip', ['-n', name, ...a]);
  c('link', 'set', 'vtmpref', 'name', 'eth0');
  c('addr', 'add', '10.66.0.2/16', 'dev', 'eth0');
  c('link', 'set', 'eth0', 'up');
  c('link', 'set', 'lo', 'up');
  c('route', 'add', 'default', 'via', '10.66.0.1');
  execFileSync('nsenter', [`--net=${host}`, 'nft', '-f', '-'], {
    input: 'add table ip ref\nadd chain ip ref output { type nat hook output priority -100; }\nadd rule ip ref output fib daddr type local tcp dport 8080 dnat to 10.66.0.2:80\n',
  });
  const up = performance.now() - t;
  h('nft', 'delete', 'table', 'ip', 'ref');
  h('ip', 'link', 'del', 'vethref');
  h('ip', 'link', 'del', 'refbr0');
  execFileSync('ip', ['netns', 'del', name]);
  return [up, performance.now() - t];
}

const results = { isola: [], shell: [] };
try {
  for (let i = 0; i < rounds; i++) {
    results.isola.push(isola(i));
    results.shell.push(shell(i));
  }
} finally {
  removeNetns(host);
  rmSync(dir, { recursive: true, force: true });
}
const row = (name, r) => [median(r.map((x) => x[0])), median(r.map((x) => x[1]))];
const [iu, it] = row('isola', results.isola);
const [su, st] = row('shell', results.shell);
console.log(`rounds: ${rounds}`);
console.log(`isola  connect ${iu.toFixed(1)} ms, connect+disconnect ${it.toFixed(1)} ms (median)`);
console.log(`ip+nft connect ${su.toFixed(1)} ms, connect+disconnect ${st.toFixed(1)} ms (median)`);
console.log(`ratio isola/ip+nft: connect ${(iu / su).toFixed(2)}x, round trip ${(it / st).toFixed(2)}x`);
