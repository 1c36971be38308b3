import type { RequestContext } from '@crm/subgraph';
import type { ProductService } from './modules/product/product.service.js';

export interface SalesServices {
  products: ProductService;
}

export type SalesContext = RequestContext<SalesServices>;
