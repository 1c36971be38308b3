import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// Apollo loads graphql's CommonJS build; Vite would give our sources its ESM build, and a schema from
// one cannot be walked (TypeInfo) by the other. Node itself resolves both to the CommonJS build.
const graphqlEntry = createRequire(import.meta.url).resolve('graphql');

export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlEntry }] },
  test: { testTimeout: 30_000, hookTimeout: 60_000 },
});
