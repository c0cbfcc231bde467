// `features`: what this runtime supports, in the runtime-spec features.md shape (runc prints the same).
import { abi } from '@isola/sys';
import { ARCHITECTURES, SECCOMP_ACTIONS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../seccomp/index.js';

export function features() {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: ['async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'mand', 'noatime', 'nodev', 'nodiratime', 'noexec', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'nosymfollow', 'private', 'rbind', 'relatime', 'remount', 'ro', 'rprivate', 'rshared', 'rslave', 'runbindable', 'rw', 'shared', 'slave', 'strictatime', 'suid', 'symfollow', 'sync', 'unbindable'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: [...abi.CAPABILITIES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: true, actions: [...SECCOMP_ACTIONS], operators: [...SECCOMP_OPERATORS], archs: Object.keys(ARCHITECTURES), knownFlags: Object.keys(SECCOMP_FLAGS), supportedFlags: Object.keys(SECCOMP_FLAGS) },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'io.github.isola.runtime': 'isola-runtime' },
  };
}
