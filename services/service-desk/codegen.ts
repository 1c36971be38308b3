import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: './schema.graphql',
  generates: {
    './src/__generated__/resolvers-types.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        federation: true,
        useIndexSignature: true,
        useTypeImports: true,
        enumsAsTypes: true,
        contextType: '../context.js#ServiceDeskContext',
        mappers: {
          Ticket: '../modules/ticket/ticket.model.js#TicketRecord',
          Customer: '../modules/ticket/ticket.model.js#CustomerReference',
        },
        scalars: { DateTime: 'Date' },
      },
    },
  },
};

export default config;
