import type { RequestContext } from '@crm/subgraph';
import type { TicketService } from './modules/ticket/ticket.service.js';

export interface ServiceDeskServices {
  tickets: TicketService;
}

export type ServiceDeskContext = RequestContext<ServiceDeskServices>;
