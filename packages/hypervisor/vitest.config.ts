import { defineProject } from 'vitest/config';
import { project } from '../../vitest.shared.js';

// vCPU worker threads run the compiled dist/ (a worker cannot load TypeScript): the global setup
// rebuilds it when a source file is newer.
export default defineProject(project('hypervisor', { globalSetup: ['./vitest.global-setup.ts'] }));
