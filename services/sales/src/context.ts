import type { RequestContext } from '@crm/subgraph';
import type { ProductService } from './modules/product/product.service.js';
import type { StockService } from './modules/stock/stock.service.js';
import type { ExpenseService } from './modules/expense/expense.service.js';
import type { ProductImportService } from './modules/product-import/product-import.service.js';
import type { ContractService } from './modules/contract/contract.service.js';
import type { OrderService } from './modules/order/order.service.js';
import type { QuoteService } from './modules/quote/quote.service.js';
import type { CustomerLinkRegistry } from '@crm/customer-link';
import type { ForecastService } from './modules/forecast/forecast.service.js';
import type { LeadService } from './modules/lead/lead.service.js';
import type { OpportunityService } from './modules/opportunity/opportunity.service.js';
import type { PipelineService } from './modules/pipeline/pipeline.service.js';

export interface SalesServices {
  products: ProductService;
  stock: StockService;
  expenses: ExpenseService;
  productImports: ProductImportService;
  quotes: QuoteService;
  contracts: ContractService;
  orders: OrderService;
  leads: LeadService;
  opportunities: OpportunityService;
  pipeline: PipelineService;
  forecast: ForecastService;
  /** customer.merged: how each module re-points its customer ids (modules register in app.ts). */
  customerLinks: CustomerLinkRegistry;
}

export type SalesContext = RequestContext<SalesServices>;
