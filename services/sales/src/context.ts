import type { RequestContext } from '@crm/subgraph';
import type { ProductService } from './modules/product/product.service.js';
import type { StockService } from './modules/stock/stock.service.js';
import type { ExpenseService } from './modules/expense/expense.service.js';
import type { ContractService } from './modules/contract/contract.service.js';
import type { OrderService } from './modules/order/order.service.js';
import type { QuoteService } from './modules/quote/quote.service.js';

export interface SalesServices {
  products: ProductService;
  stock: StockService;
  expenses: ExpenseService;
  quotes: QuoteService;
  contracts: ContractService;
  orders: OrderService;
}

export type SalesContext = RequestContext<SalesServices>;
