import type { RequestContext } from '@crm/subgraph';
import type { CustomerDirectory } from './modules/customer-directory/customer-directory.service.js';
import type { TicketService } from './modules/ticket/ticket.service.js';

export interface ServiceDeskServices {
  customerDirectory: CustomerDirectory;
  tickets: TicketService;
}

export type ServiceDeskContext = RequestContext<ServiceDeskServices>;
