import type { RequestContext } from '@crm/subgraph';
import type { CustomerService } from './modules/customer/customer.service.js';

export interface CustomersServices {
  customers: CustomerService;
}

export type CustomersContext = RequestContext<CustomersServices>;
