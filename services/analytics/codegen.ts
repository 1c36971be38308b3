import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  // The contract: schema.graphql and each module's own .graphql (see @crm/subgraph loadSchema).
  schema: ['./schema.graphql', './src/modules/*/*.graphql'],
  generates: {
    './src/__generated__/resolvers-types.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        federation: true,
        useIndexSignature: true,
        useTypeImports: true,
        enumsAsTypes: true,
        contextType: '../context.js#AnalyticsContext',
        scalars: { DateTime: 'Date', SafeInt: 'number' },
      },
    },
  },
};

export default config;
