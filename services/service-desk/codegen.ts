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
        contextType: '../context.js#ServiceDeskContext',
        mappers: {
          Ticket: '../modules/ticket/ticket.model.js#TicketRecord',
          Queue: '../modules/queue/queue.model.js#QueueRecord',
          Article: '../modules/article/article.model.js#ArticleRecord',
          Conversation: '../modules/conversation/conversation.model.js#ConversationRecord',
          ConversationMessage: '../modules/conversation/conversation.model.js#ConversationMessage as ConversationMessageRecord',
          ConversationAnswer: '../modules/conversation/conversation.model.js#ConversationAnswer as ConversationAnswerRecord',
          AfterSalesRecord: '../modules/after-sales/after-sales.model.js#AfterSalesRecord as AfterSalesDocument',
          Customer: '../shared/entity-references.js#EntityReference',
          Product: '../shared/entity-references.js#EntityReference',
          Order: '../shared/entity-references.js#EntityReference',
        },
        scalars: { DateTime: 'Date' },
      },
    },
  },
};

export default config;
