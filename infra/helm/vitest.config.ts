import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Builds helm and installs kubernetes-validate into .local/tools the first time (minutes).
    globalSetup: ['__tests__/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
