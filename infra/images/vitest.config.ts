import { defineConfig } from 'vitest/config';

// Bundling builds and deploys whole packages: minutes on a cold turbo cache.
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 600_000 } });
