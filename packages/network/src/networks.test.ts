// Container networks against the real kernel and nft. Everything happens inside network namespaces the
// test makes: one plays the host (its 127.0.0.1 is where published ports answer), the others are the
// containers, running busybox httpd. No packet leaves those namespaces.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { describeError } from '@isola/errors';
import { RtNetlink } from '@isola/sys';
import { itNeeds } from '../../../test/support/requirements.js';
import { createNetns, removeNetns, withNetns } from './netns/netns.js';
import { Networks } from './networks.js';
import { parsePortMapping } from './ports/parse.js';

const run = promisify(execFile);
/** What the CLI would print for the error `fn` throws: every layer, outermost first. */
function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return describeError(error);
  }
  throw new Error('expected an error');
}
const needs = itNeeds({ root: true, tools: ['nsenter', 'unshare', 'ip', 'nft'], files: ['/bin/busybox'] });

let dir: string;
let hostNs: string;
let nets: Networks;
const namespaces: string[] = [];
const servers: ChildProcess[] = [];

/** A "container": a network namespace of its own with a hosts file, not yet on any network. */
function container(name: string): { id: string; name: string; netns: string; hosts: string } {
  const netns = createNetns(join(dir, 'netns', name));
  namespaces.push(netns);
  const hosts = join(dir, 'hosts', name);
  mkdirSync(join(dir, 'hosts'), { recursive: true });
  return { id: `${name}${'0'.repeat(64)}`.slice(0, 64), name, netns, hosts };
}

/** busybox httpd on port 80 inside `netns`, serving `text`. */
async function serve(netns: string, text: string): Promise<void> {
  const www = mkdtempSync(join(dir, 'www-'));
  writeFileSync(join(www, 'index.html'), `${text}\n`);
  const child = spawn('nsenter', [`--net=${netns}`, '/bin/busybox', 'httpd', '-f', '-p', '80', '-h', www], { stdio: 'ignore' });
  servers.push(child);
  for (let i = 0; i < 200; i++) {
    const out = execFileSync('nsenter', [`--net=${netns}`, '/bin/busybox', 'netstat', '-ltn'], { encoding: 'utf8' });
    if (/:80\s/.test(out)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`httpd did not start in ${netns}`);
}

/** GET http://url from inside `netns`, with /etc/hosts replaced by `hosts` when given. */
async function fetchIn(netns: string, url: string, hosts?: string): Promise<string> {
  // (busybox 1.35's wget -T segfaults: the time limit is execFile's.)
  const wget = ['nsenter', `--net=${netns}`, '/bin/busybox', 'wget', '-q', '-O', '-', url];
  if (!hosts) return (await run(wget[0]!, wget.slice(1), { timeout: 10_000 })).stdout;
  const script = 'mount --bind "$0" /etc/hosts && exec "$@"';
  return (await run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, hosts, ...wget], { timeout: 10_000 })).stdout;
}

const inHost = (...args: string[]) => execFileSync('nsenter', [`--net=${hostNs}`, ...args], { encoding: 'utf8' });
const hostLinks = () => inHost('ip', '-br', 'link');

beforeEach(() => {
  if (process.getuid?.() !== 0) return;
  dir = mkdtempSync(join(tmpdir(), 'isola-net-'));
  hostNs = createNetns(join(dir, 'netns', 'host'));
  namespaces.push(hostNs);
  withNetns(hostNs, () => {
    const rt = RtNetlink.open();
    rt.setUp('lo');
    rt.close();
  });
  nets = new Networks({ root: join(dir, 'root'), hostNetns: hostNs });
});

afterEach(() => {
  if (process.getuid?.() !== 0) return;
  for (const child of servers.splice(0)) if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  for (const ns of namespaces.splice(0).reverse()) removeNetns(ns);
  rmSync(dir, { recursive: true, force: true });
});

describe('container networks', () => {
  needs('two containers listening on port 80, published on 8080 and 8081, both answer on 127.0.0.1 at once', async () => {
    const a = container('a');
    const b = container('b');
    const ea = nets.connect('bridge', a, a.netns, { ports: [parsePortMapping('8080:80')], hostsPath: a.hosts });
    const eb = nets.connect('bridge', b, b.netns, { ports: [parsePortMapping('127.0.0.1:8081:80')], hostsPath: b.hosts });
    expect(ea).toMatchObject({ network: 'bridge', ip: '172.17.0.2', prefix: 16, gateway: '172.17.0.1', mac: '02:42:ac:11:00:02', interface: 'eth0' });
    expect(eb.ip).toBe('172.17.0.3');
    await serve(a.netns, 'hello from a');
    await serve(b.netns, 'hello from b');

    const [fromA, fromB] = await Promise.all([fetchIn(hostNs, 'http://127.0.0.1:8080/'), fetchIn(hostNs, 'http://127.0.0.1:8081/')]);
    expect(fromA).toBe('hello from a\n');
    expect(fromB).toBe('hello from b\n');
    // The bridge gateway is a host address too: 8080 (all addresses) answers there, 8081 (127.0.0.1 only) does not.
    expect(await fetchIn(hostNs, 'http://172.17.0.1:8080/')).toBe('hello from a\n');
    await expect(fetchIn(hostNs, 'http://172.17.0.1:8081/')).rejects.toThrow();

    // Inside: eth0 with the address, lo up, default route via the gateway.
    expect(execFileSync('nsenter', [`--net=${a.netns}`, 'ip', '-4', 'route'], { encoding: 'utf8' })).toMatch(/^default via 172\.17\.0\.1 dev eth0/m);
    expect(execFileSync('nsenter', [`--net=${a.netns}`, 'ip', '-br', 'addr'], { encoding: 'utf8' })).toMatch(/^eth0@\S+\s+UP\s+172\.17\.0\.2\/16/m);
    // docker's default bridge: the container's own line has its hostname (here the short id), not its name.
    expect(readFileSync(a.hosts, 'utf8')).toContain(`172.17.0.2\t${a.id.slice(0, 12)}\n`);
    expect(readFileSync(a.hosts, 'utf8')).not.toMatch(/\ta\n/);
    expect(readFileSync(a.hosts, 'utf8')).not.toContain('172.17.0.3'); // the default network has no names
    expect(nets.inspect('bridge')).toMatchObject({ Name: 'bridge', Driver: 'bridge', IPAM: { Config: [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }] }, Options: { 'com.docker.network.bridge.name': 'isola0' } });
    expect(inHost('nft', 'list', 'table', 'ip', 'isola')).toContain(`dnat to 172.17.0.3:80 comment "isola-container:`);

    nets.disconnect('bridge', a.id);
    nets.disconnectAll(b.id);
    expect(hostLinks().trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['lo']);
    expect(inHost('ip', '-4', 'route')).toBe('');
    expect(inHost('nft', 'list', 'ruleset')).toBe('');
    expect(execFileSync('nsenter', [`--net=${a.netns}`, 'ip', '-br', 'link'], { encoding: 'utf8' }).trim()).toMatch(/^lo\s+UNKNOWN/);
    await expect(fetchIn(hostNs, 'http://127.0.0.1:8080/')).rejects.toThrow();
  });

  needs('containers on a user-defined network reach each other by name, through hosts files kept up to date in place', async () => {
    const net = nets.create({ name: 'app', subnet: '10.77.0.0/24' });
    expect(net).toMatchObject({ name: 'app', subnet: '10.77.0.0/24', gateway: '10.77.0.1', bridge: `br-${net.id.slice(0, 12)}` });
    const web = container('web');
    const client = container('client');
    nets.connect('app', { ...web, aliases: ['www'] }, web.netns, { hostsPath: web.hosts });
    const inode = statSync(web.hosts).ino;
    nets.connect('app', client, client.netns, { hostsPath: client.hosts });
    await serve(web.netns, 'web says hi');

    expect(readFileSync(client.hosts, 'utf8')).toContain(`10.77.0.2\tweb www ${web.id.slice(0, 12)}\n`);
    expect(readFileSync(web.hosts, 'utf8')).toContain('10.77.0.3\tclient');
    expect(statSync(web.hosts).ino).toBe(inode);
    expect(await fetchIn(client.netns, 'http://web/', client.hosts)).toBe('web says hi\n');
    expect(await fetchIn(client.netns, 'http://www/', client.hosts)).toBe('web says hi\n');

    nets.disconnect('app', client.id);
    expect(readFileSync(web.hosts, 'utf8')).not.toContain('client');
    expect(statSync(web.hosts).ino).toBe(inode);

    expect(() => nets.remove('app')).toThrow('network app has 1 attached container (web): disconnect or remove it first');
    expect(() => nets.remove('bridge')).toThrow('bridge is a pre-defined network and cannot be removed');
    nets.disconnect('app', web.id);
    nets.remove('app');
    expect(nets.list().map((n) => n.name)).toEqual(['bridge']);
    expect(hostLinks().trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['lo']);
    expect(inHost('nft', 'list', 'ruleset')).toBe('');
  });

  needs('refuses a host port that is taken, by the host or by another container, and leaves nothing behind', async () => {
    await serve(hostNs, 'the host itself');
    const a = container('a');
    expect(() => nets.connect('bridge', a, a.netns, { ports: [parsePortMapping('80:80')] })).toThrow('Bind for 0.0.0.0:80 failed: port is already allocated');
    expect(() => nets.connect('bridge', a, a.netns, { ports: [parsePortMapping('10.1.2.3:8080:80')] })).toThrow(/cannot publish on 10\.1\.2\.3:8080\/tcp: bind.*EADDRNOTAVAIL/);
    expect(hostLinks().trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['lo']);
    expect(inHost('nft', 'list', 'ruleset')).toBe('');
    expect(nets.inspect('bridge')).toMatchObject({ Containers: {} });

    nets.connect('bridge', a, a.netns, { ports: [parsePortMapping('8080:80'), parsePortMapping('80/udp')] });
    const b = container('b');
    expect(() => nets.connect('bridge', b, b.netns, { ports: [parsePortMapping('127.0.0.1:8080:80')] })).toThrow('Bind for 127.0.0.1:8080 failed: port is already allocated');
    expect(Object.keys(nets.get('bridge').endpoints)).toEqual([a.id]);
    expect(nets.get('bridge').endpoints[a.id]!.ports[1]).toEqual({ hostIp: '0.0.0.0', hostPort: 49153, containerPort: 80, protocol: 'udp' });
    expect(() => nets.connect('bridge', a, a.netns)).toThrow('container a is already connected to network bridge');
    expect(() => nets.connect('nope', b, b.netns)).toThrow('network "nope" not found');
    expect(message(() => nets.connect('bridge', b, join(dir, 'no-such-netns')))).toMatch(/^connect container b to network bridge: network namespace ".*no-such-netns" does not exist: open\(.*\): ENOENT/);
    expect(() => nets.connect('bridge', { ...b, aliases: ['x\n10.0.0.9\tevil'] }, b.netns)).toThrow('invalid alias "x\\n10.0.0.9\\tevil"');
    expect(() => nets.connect('bridge', { ...b, name: 'b c' }, b.netns)).toThrow('invalid container name "b c"');
    expect(Object.keys(nets.get('bridge').endpoints)).toEqual([a.id]);
    nets.disconnect('bridge', a.id);
    expect(() => nets.disconnect('bridge', a.id)).toThrow(`container ${a.id} is not connected to network bridge`);
    expect(hostLinks().trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['lo']);
    expect(inHost('nft', 'list', 'ruleset')).toBe('');
  });

  needs('containers reach a network beyond the host through masquerading (a third namespace plays the outside)', async () => {
    const outside = createNetns(join(dir, 'netns', 'outside'));
    namespaces.push(outside);
    withNetns(hostNs, () => {
      const rt = RtNetlink.open();
      rt.createVeth('uplink', 'peer');
      rt.addAddress('uplink', '10.200.0.1', 24);
      rt.setUp('uplink');
      const fd = openSync(outside, 'r');
      try {
        rt.moveToNetns('peer', fd);
      } finally {
        closeSync(fd);
      }
      rt.close();
    });
    withNetns(outside, () => {
      const rt = RtNetlink.open();
      rt.addAddress('peer', '10.200.0.2', 24);
      rt.setUp('peer');
      rt.setUp('lo');
      rt.close();
    });
    await serve(outside, 'outside world');
    const a = container('a');
    nets.connect('bridge', a, a.netns);
    // The outside has no route back to 172.17.0.0/16: only the masquerade lets the reply find its way.
    expect(await fetchIn(a.netns, 'http://10.200.0.2/')).toBe('outside world\n');
    nets.disconnect('bridge', a.id);
    expect(inHost('nft', 'list', 'ruleset')).toBe('');
    await expect(fetchIn(a.netns, 'http://10.200.0.2/')).rejects.toThrow();
  });

  needs('disconnects cleanly after the container namespace is already gone', () => {
    const a = container('a');
    nets.connect('bridge', a, a.netns, { ports: [parsePortMapping('8080:80')] });
    removeNetns(a.netns); // the veth pair dies with the namespace
    nets.disconnectAll(a.id);
    expect(hostLinks().trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['lo']);
    expect(inHost('nft', 'list', 'ruleset')).toBe('');
    expect(inHost('ip', '-4', 'route')).toBe('');
  });

  needs('picks a default subnet that no host route covers, and validates network definitions', () => {
    withNetns(hostNs, () => {
      const rt = RtNetlink.open();
      rt.createBridge('dummybr');
      rt.addAddress('dummybr', '172.17.3.1', 24);
      rt.setUp('dummybr');
      rt.close();
    });
    expect(nets.get('bridge').subnet).toBe('172.18.0.0/16');
    expect(nets.create({ name: 'n1' }).subnet).toBe('172.19.0.0/16');
    expect(() => nets.create({ name: 'n1' })).toThrow('network with name n1 already exists');
    expect(() => nets.create({ name: 'n2', subnet: '172.19.128.0/17' })).toThrow('subnet 172.19.128.0/17 overlaps network "n1" (172.19.0.0/16)');
    expect(() => nets.create({ name: '../etc' })).toThrow('invalid network name "../etc"');
    expect(() => nets.create({ name: 'host' })).toThrow(/reserved/);
    expect(() => nets.create({ name: 'n3', subnet: '10.5.0.0/16', gateway: '10.6.0.1' })).toThrow('gateway 10.6.0.1 is not a host address of subnet 10.5.0.0/16');
    expect(nets.create({ name: 'n4', subnet: '10.5.0.0/16', gateway: '10.5.0.254' }).gateway).toBe('10.5.0.254');
    expect(nets.list().map((n) => n.name)).toEqual(['bridge', 'n1', 'n4']);
    expect(() => nets.remove('nope')).toThrow('network "nope" not found');
  });

  needs('two isola processes connecting at once never get the same address', async () => {
    nets.create({ name: 'race', subnet: '10.88.0.0/24' });
    const loader = join(import.meta.dirname, '..', 'test-support', 'ts-loader.mjs');
    const script = join(import.meta.dirname, '..', 'test-support', 'allocate-child.ts');
    const root = join(dir, 'root');
    const children = ['p', 'q'].map((tag) => {
      const child = spawn(process.execPath, ['--import', loader, script, root, hostNs, 'race', tag, '6'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const ready = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += d.toString()), out.startsWith('ready\n') && resolve())));
      const done = new Promise<string>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child ${tag} exited with ${code}`)))));
      return { ready, done };
    });
    await Promise.all(children.map((c) => c.ready));
    writeFileSync(join(root, 'go'), '');
    const outputs = await Promise.all(children.map((c) => c.done));
    const ips = outputs.flatMap((o) => o.trim().split('\n').slice(1));
    for (const tag of ['p', 'q']) for (let i = 0; i < 6; i++) namespaces.push(join(root, 'netns', `${tag}${i}`));
    expect(ips).toHaveLength(12);
    expect(new Set(ips).size).toBe(12);
    expect(Object.keys(nets.get('race').endpoints)).toHaveLength(12);
    for (const id of Object.keys(nets.get('race').endpoints)) nets.disconnect('race', id);
    expect(hostLinks().trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['lo']);
  }, 120_000);
});
