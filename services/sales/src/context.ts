import type { RequestContext } from '@crm/subgraph';
import type { ProductService } from './modules/product/product.service.js';
import type { StockService } from './modules/stock/stock.service.js';

export interface SalesServices {
  products: ProductService;
  stock: StockService;
}

export type SalesContext = RequestContext<SalesServices>;
