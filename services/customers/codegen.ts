import type { CodegenConfig } from '@graphql-codegen/cli';

// Resolver types from the subgraph's contract, as in Apollo's TypeScript subgraph template.
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
        contextType: '../context.js#CustomersContext',
        mappers: {
          Customer: '../modules/customer/customer.model.js#CustomerRecord',
          Organization: '../modules/organization/organization.model.js#OrganizationRecord',
          CustomerGroup: '../modules/customer-group/customer-group.model.js#CustomerGroupRecord',
          Feedback: '../modules/feedback/feedback.model.js#FeedbackRecord',
          CustomerImportJob: '../modules/customer-import/customer-import.model.js#CustomerImportJobRecord',
          Activity: '../modules/activity/activity.model.js#ActivityRecord',
          TimelineEntry: '../modules/activity/timeline.model.js#TimelineEntryView',
          Ticket: '../modules/activity/timeline.model.js#TicketReference',
        },
        scalars: { DateTime: 'Date', Date: 'string' },
      },
    },
  },
};

export default config;
