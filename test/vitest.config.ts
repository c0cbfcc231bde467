import { defineProject } from 'vitest/config';
import { project } from '../vitest.shared.js';

export default defineProject(project('e2e', {
  include: ['e2e/**/*.test.ts', 'support/**/*.test.ts'],
  // Each test makes several CLI calls (~0.5 s each, several seconds each on a loaded machine): not a performance bound.
  testTimeout: 120_000,
}));
