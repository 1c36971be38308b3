import type { CodegenConfig } from '@graphql-codegen/cli';

// Resolver types from the subgraph's contract, as in Apollo's TypeScript subgraph template.
const config: CodegenConfig = {
  schema: ['./schema.graphql', './src/modules/*/*.graphql'],
  generates: {
    './src/__generated__/resolvers-types.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        federation: true,
        useIndexSignature: true,
        useTypeImports: true,
        enumsAsTypes: true,
        contextType: '../context.js#AdminContext',
        mappers: {
          UserAccount: '../modules/user-account/user-account.service.js#UserAccountView',
          AuditEntry: '../modules/audit/audit.model.js#AuditEntryRecord',
        },
        scalars: { DateTime: 'Date' },
      },
    },
  },
};

export default config;
