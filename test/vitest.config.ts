import { defineProject } from 'vitest/config';
import { project } from '../vitest.shared.js';

export default defineProject(project('e2e', { include: ['e2e/**/*.test.ts', 'support/**/*.test.ts'] }));
