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
        contextType: '../context.js#SalesContext',
        mappers: {
          Product: '../modules/product/product.model.js#ProductRecord',
          Lead: '../modules/lead/lead.model.js#LeadRecord',
          Opportunity: '../modules/opportunity/opportunity.model.js#OpportunityRecord',
          Pipeline: '../modules/pipeline/pipeline.model.js#PipelineRecord',
          StockLevel: '../modules/stock/stock.service.js#StockLevelView',
          StockMovement: '../modules/stock/stock.model.js#StockMovementRecord',
          Expense: '../modules/expense/expense.model.js#ExpenseRecord',
          ProductImportJob: '../modules/product-import/product-import.model.js#ProductImportJobRecord',
          ProductImportRowError: '@crm/import-jobs#ImportRowError',
          Customer: '../shared/customer-reference.resolvers.js#CustomerReference',
          Quote: '../modules/quote/quote.model.js#QuoteRecord',
          QuoteVersion: '../modules/quote/quote.model.js#QuoteVersionRecord',
          LineItem: '../shared/pricing.js#PricedLine',
          Contract: '../modules/contract/contract.model.js#ContractRecord',
          Order: '../modules/order/order.model.js#OrderRecord',
          AcceptQuotePayload: '../modules/quote/quote.service.js#AcceptedQuote',
        },
        scalars: { DateTime: 'Date', Date: 'string', SafeInt: 'number' },
      },
    },
  },
};

export default config;
