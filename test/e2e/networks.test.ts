// Networks as users type them: `--network bridge|none|host|NAME`, `-p`, `isola port`, `network
// create|ls|inspect|rm`, and bad or malicious input. Everything runs inside a network namespace this
// file creates and removes (isola itself runs there through nsenter, so the namespace plays the host):
// traffic goes only to 127.0.0.1 and to addresses inside it. After each test nothing is left there: no
// veth, bridge, route or nft rule, no namespace mount, no record.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { isolaEnv, list, removeContainers, runCommand, useBusyboxImage, useIsolaRoot } from '../support/cli.js';
import { itNeeds } from '../support/requirements.js';
import { useTestNetns } from '../support/netns.js';

const netns = useTestNetns();
const { work, root: stateRoot, options, isola } = useIsolaRoot('isola-networks-', netns);
useBusyboxImage();

const needs = itNeeds({ root: true, tools: ['ip', 'nsenter', 'nft', 'busybox'], files: ['/bin/busybox'] });

/** Runs `command` in the test's namespace. */
function inNs(command: string, args: string[], timeout?: number) {
  return runCommand('nsenter', [`--net=${netns.path}`, command, ...args], { env: isolaEnv(stateRoot), timeout });
}

/** busybox wget from the test's namespace; Debian's `wget -T` crashes, so the process gets the timeout. */
const fetch = (url: string) => inNs('busybox', ['wget', '-qO-', url], 5_000);

/** Retries until the server in a just-started container answers (no timing is asserted). */
function fetchWhenUp(url: string): string {
  let last = fetch(url);
  for (let i = 0; i < 50 && last.status !== 0; i++) {
    spawnSync('sleep', ['0.1']);
    last = fetch(url);
  }
  return last.stdout;
}

/** A busybox httpd container serving `text` on port 80. */
function httpd(text: string, ...flags: string[]) {
  return isola('run', '-d', ...flags, 'busybox', 'sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`);
}

/** Everything networking could leave behind in the namespace and the isola root. */
function leftovers() {
  const links = inNs('ip', ['-o', 'link', 'show']).stdout.split('\n').filter((l) => l.trim() !== '').map((l) => l.split(':')[1]!.trim().split('@')[0]!);
  const rules = inNs('nft', ['list', 'ruleset']).stdout.trim();
  return {
    links: links.filter((l) => l !== 'lo'),
    rules,
    routes: inNs('ip', ['route', 'show']).stdout.trim(),
    netns: list(join(stateRoot, 'netns')),
    containers: list(join(stateRoot, 'containers')),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(work)),
  };
}

const CLEAN = { links: [], rules: '', routes: '', netns: [], containers: [], mounts: [] };

const started: ChildProcess[] = [];

afterEach(() => {
  for (const child of started.splice(0)) if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  removeContainers(options);
});

// Before the namespace goes (useTestNetns' own after-hook runs last).
afterAll(() => {
  if (existsSync(netns.path)) {
    for (const name of list(join(stateRoot, 'networks')).filter((n) => n.endsWith('.json'))) isola('network', 'rm', name.slice(0, -5));
  }
});

describe('published ports', () => {
  needs('two containers listening on port 80, published on 8080 and 8081, both answer on 127.0.0.1', () => {
    const one = httpd('one', '-p', '8080:80', '--name', 'one');
    const two = httpd('two', '-p', '127.0.0.1:8081:80/tcp', '--name', 'two');
    expect(one.status, one.stderr).toBe(0);
    expect(two.status, two.stderr).toBe(0);
    expect(fetchWhenUp('http://127.0.0.1:8080/')).toBe('one\n');
    expect(fetchWhenUp('http://127.0.0.1:8081/')).toBe('two\n');
    expect(fetch('http://127.0.0.1:8080/').stdout).toBe('one\n');

    const ps = isola('ps');
    expect(ps.stdout).toMatch(/0\.0\.0\.0:8080->80\/tcp\s+one/);
    expect(ps.stdout).toMatch(/127\.0\.0\.1:8081->80\/tcp\s+two/);
    expect(isola('port', 'one')).toEqual({ status: 0, stdout: '80/tcp -> 0.0.0.0:8080\n', stderr: '' });
    expect(isola('port', 'two', '80')).toEqual({ status: 0, stdout: '127.0.0.1:8081\n', stderr: '' });
    const missingPort = isola('port', 'two', '443/tcp');
    expect(missingPort.status).not.toBe(0);
    expect(missingPort.stderr).toBe("Error: no public port '443/tcp' published for two\n");

    const [info] = JSON.parse(isola('inspect', 'one').stdout);
    expect(info.HostConfig.NetworkMode).toBe('bridge');
    expect(info.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
    expect(info.NetworkSettings.Ports).toEqual({ '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] });
    expect(info.NetworkSettings.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(info.NetworkSettings.Networks.bridge.IPAddress).toBe(info.NetworkSettings.IPAddress);
    expect(info.NetworkSettings.Networks.bridge.Gateway).toBe(info.NetworkSettings.Gateway);
    // The container's address answers from the namespace too (the bridge is there).
    expect(fetch(`http://${info.NetworkSettings.IPAddress}/`).stdout).toBe('one\n');

    expect(isola('rm', '-f', 'one', 'two').status).toBe(0);
    expect(leftovers()).toEqual(CLEAN);
  }, 180_000);

  needs('-p with no host port picks a free one, which `port` and `inspect` report', () => {
    const web = httpd('picked', '-p', '80', '--name', 'picked');
    expect(web.status, web.stderr).toBe(0);
    const port = isola('port', 'picked', '80/tcp');
    expect(port.stdout).toMatch(/^0\.0\.0\.0:\d+\n$/);
    const hostPort = Number(port.stdout.trim().split(':')[1]);
    expect(hostPort).toBeGreaterThan(1023);
    expect(fetchWhenUp(`http://127.0.0.1:${hostPort}/`)).toBe('picked\n');
    expect(isola('rm', '-f', 'picked').status).toBe(0);
    expect(leftovers()).toEqual(CLEAN);
  }, 180_000);

  needs('a port in use (by an isola container or any listener) is a one-line error and leaves nothing', () => {
    expect(httpd('first', '-p', '8090:80', '--name', 'first').status).toBe(0);
    const before = leftovers();
    const clash = httpd('second', '-p', '8090:80', '--name', 'second');
    expect(clash.status).not.toBe(0);
    expect(clash.stderr).toMatch(/^Error: .*Bind for 0\.0\.0\.0:8090 failed: port is already allocated\n$/);
    expect(leftovers()).toEqual(before);

    // A listener that is not isola's, in the namespace.
    const listener = spawn('nsenter', [`--net=${netns.path}`, 'busybox', 'httpd', '-f', '-p', '127.0.0.1:8091'], { stdio: 'ignore' });
    started.push(listener);
    for (let i = 0; i < 50 && !inNs('busybox', ['netstat', '-ltn']).stdout.includes('127.0.0.1:8091'); i++) spawnSync('sleep', ['0.1']);
    const taken = httpd('third', '-p', '8091:80');
    expect(taken.status).not.toBe(0);
    expect(taken.stderr).toMatch(/8091.*(already allocated|in use)/);
    expect(taken.stderr.trim().split('\n')).toHaveLength(1);
    expect(leftovers()).toEqual(before);

    expect(isola('rm', '-f', 'first').status).toBe(0);
    expect(leftovers()).toEqual(CLEAN);
  }, 180_000);

  needs('a container whose init died releases its port to the next one', () => {
    expect(httpd('old', '-p', '8092:80', '--name', 'old').status).toBe(0);
    const [info] = JSON.parse(isola('inspect', 'old').stdout);
    process.kill(info.State.Pid, 'SIGKILL'); // the container's init, which this test started
    const next = httpd('new', '-p', '8092:80', '--name', 'new');
    expect(next.status, next.stderr).toBe(0);
    expect(fetchWhenUp('http://127.0.0.1:8092/')).toBe('new\n');
    expect(isola('ps', '-a', '--format', 'json').stdout).toMatch(/"Names":"old","Networks":"bridge","Ports":"".*"State":"exited"/);
    expect(isola('rm', '-f', 'old', 'new').status).toBe(0);
    expect(leftovers()).toEqual(CLEAN);
  }, 180_000);
});

describe('user-defined networks', () => {
  needs('containers on one network reach each other by name and alias; network rm is refused while in use', () => {
    const made = isola('network', 'create', '--subnet', '10.123.0.0/24', 'testnet');
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const ls = isola('network', 'ls').stdout;
    expect(ls.split('\n').map((l) => l.split(/\s+/).slice(1, 3).join(' '))).toEqual(['ID NAME', 'bridge bridge', 'host host', 'none null', 'testnet bridge', '']);
    expect(ls).toMatch(/\n[0-9a-f]{12}\s+testnet\s+bridge\s+local\n/);
    expect(JSON.parse(isola('network', 'ls', '--format', 'json').stdout.split('\n').find((l) => l.includes('"testnet"'))!)).toMatchObject({ Name: 'testnet', Driver: 'bridge', Scope: 'local' });

    expect(httpd('hello-by-name', '--network', 'testnet', '--name', 'web', '--network-alias', 'www').status).toBe(0);
    const client = isola('run', '--rm', '--network', 'testnet', 'busybox', 'sh', '-c',
      'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://web/ && break; sleep 0.2; done; wget -qO- http://www/; ping -c1 -W2 web >/dev/null && echo pinged; grep -w web /etc/hosts');
    expect(client.stderr).toBe('');
    expect(client.stdout).toMatch(/^hello-by-name\nhello-by-name\npinged\n10\.123\.0\.\d+\tweb www [0-9a-f]{12}\n$/);

    const [net] = JSON.parse(isola('network', 'inspect', 'testnet').stdout);
    expect(net.IPAM.Config).toEqual([{ Subnet: '10.123.0.0/24', Gateway: '10.123.0.1' }]);
    expect(Object.values(net.Containers).map((c) => (c as { Name: string }).Name)).toEqual(['web']);
    const [info] = JSON.parse(isola('inspect', 'web').stdout);
    expect(info.NetworkSettings.Networks.testnet).toMatchObject({ IPAddress: '10.123.0.2', Gateway: '10.123.0.1', IPPrefixLen: 24, Aliases: ['www'] });

    const busy = isola('network', 'rm', 'testnet');
    expect(busy.status).not.toBe(0);
    expect(busy.stderr).toBe('Error: network testnet has 1 attached container (web): disconnect or remove it first\n');
    expect(isola('rm', '-f', 'web').status).toBe(0);
    expect(isola('network', 'rm', 'testnet')).toEqual({ status: 0, stdout: 'testnet\n', stderr: '' });
    expect(isola('network', 'ls').stdout).not.toMatch(/testnet/);
    expect(leftovers()).toEqual(CLEAN);
  }, 180_000);
});

describe('none, host and the default bridge', () => {
  needs('--network none keeps only loopback with a plain hosts file; bridge works with a read-only rootfs', () => {
    const none = isola('run', '--rm', '--network', 'none', '--hostname', 'alone', 'busybox', 'sh', '-c', 'ls /sys/class/net; cat /etc/hostname; grep -c . /etc/hosts');
    expect(none).toEqual({ status: 0, stdout: 'lo\nalone\n6\n', stderr: '' });

    const ro = isola('run', '--rm', '--read-only', '--name', 'ro', 'busybox', 'sh', '-c', 'ls /sys/class/net; tail -n1 /etc/hosts; ip route | grep default');
    expect(ro.stderr).toBe('');
    // As docker's default bridge: the container's own line has its hostname only, not its name.
    expect(ro.stdout).toMatch(/^eth0\nlo\n\d+\.\d+\.\d+\.\d+\t[0-9a-f]{12}\ndefault via \d+\.\d+\.\d+\.\d+ dev eth0 *\n$/);

    const host = isola('run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net');
    expect(host).toEqual({ status: 0, stdout: 'lo\n', stderr: '' });
    expect(leftovers()).toEqual(CLEAN);
  }, 180_000);

  needs('create + start joins the network made at create; a foreground run releases it at the exit', () => {
    const created = isola('create', '--name', 'later', '-p', '8094:80', 'busybox', 'sh', '-c', 'mkdir /www; echo later > /www/index.html; exec httpd -f -p 80 -h /www');
    expect(created.status, created.stderr).toBe(0);
    expect(isola('start', 'later').status).toBe(0);
    expect(fetchWhenUp('http://127.0.0.1:8094/')).toBe('later\n');
    expect(isola('rm', '-f', 'later').status).toBe(0);

    const fg = isola('run', '--name', 'fg', '-p', '8095:80', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0 | grep -c inet');
    expect(fg).toEqual({ status: 0, stdout: '1\n', stderr: '' });
    // Stopped: the record stays, the veth, rules and namespace are gone, as docker releases them at stop.
    expect(leftovers()).toMatchObject({ links: [], rules: '', netns: [], containers: [expect.stringMatching(/^[0-9a-f]{64}$/)] });
    expect(JSON.parse(isola('inspect', 'fg').stdout)[0].NetworkSettings).toMatchObject({ IPAddress: '', Ports: {} });
    expect(isola('rm', 'fg').status).toBe(0);
    expect(leftovers()).toEqual(CLEAN);
  }, 180_000);

  needs('run --rm -d: the monitor removes the container and its network when it exits', () => {
    const r = isola('run', '-d', '--rm', '-p', '8093:80', 'busybox', 'sleep', '0.2');
    expect(r.status, r.stderr).toBe(0);
    for (let i = 0; i < 100 && list(join(stateRoot, 'containers')).length > 0; i++) spawnSync('sleep', ['0.1']);
    expect(leftovers()).toEqual(CLEAN);
  }, 180_000);
});

describe('bad and malicious input', () => {
  needs('one line naming the problem, a non-zero exit, and nothing left behind', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--network', 'nosuch'], /^Error: network nosuch not found\n$/],
      [['--network', '../../etc/passwd'], /^Error: network \.\.\/\.\.\/etc\/passwd not found\n$/],
      [['-p', '99999:80'], /^Error: invalid port mapping "99999:80": host port "99999" is not a number between 1 and 65535\n$/],
      [['-p', '1.2.3:80:80'], /^Error: invalid port mapping "1\.2\.3:80:80": host IP "1\.2\.3" is not an IPv4 address\n$/],
      [['-p', '80/sctp'], /^Error: invalid port mapping "80\/sctp": protocol "sctp" is not tcp or udp\n$/],
      [['--network', 'none', '-p', '80'], /^Error: -p\/--publish: ports cannot be published with --network none/],
      [['--network-alias', 'x'], /^Error: --network-alias: network-scoped aliases are only supported on user-defined networks/],
      [['--hostname', 'evil\n1.2.3.4 bank'], /^Error: .*invalid hostname/],
    ];
    for (const [flags, message] of cases) {
      const r = isola('run', '--rm', ...flags, 'busybox', 'true');
      expect(r.stderr, flags.join(' ')).toMatch(message);
      expect(r.status, flags.join(' ')).not.toBe(0);
      expect(leftovers(), flags.join(' ')).toEqual(CLEAN);
    }
    expect(isola('network', 'create', 'bridge').stderr).toMatch(/^Error: network name "bridge" is reserved/);
    expect(isola('network', 'create', '--subnet', '10.9.0.0/33', 'bad').status).not.toBe(0);
    expect(isola('network', 'rm', 'bridge').stderr).toBe('Error: bridge is a pre-defined network and cannot be removed\n');
    expect(isola('network', 'rm', 'nosuch').stderr).toMatch(/^Error: network "nosuch" not found\n$/);
    expect(list(join(stateRoot, 'networks')).filter((n) => n.endsWith('.json') && n !== 'bridge.json')).toEqual([]);
  }, 180_000);
});
