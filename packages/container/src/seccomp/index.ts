export { compileSeccomp, type CompiledSeccomp } from './compile.js';
export { defaultProfile } from './default-profile.js';
export { runFilter, type SeccompData } from './bpf.js';
export { SECCOMP_ACTIONS, SECCOMP_RET } from './actions.js';
export { SECCOMP_FLAGS, SECCOMP_OPERATORS } from './rules.js';
export { ARCHITECTURES, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, type ArchitectureName } from './architectures.js';
