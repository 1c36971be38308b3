import type { RequestContext } from '@crm/subgraph';
import type { ArticleService } from './modules/article/article.service.js';
import type { CustomerDirectory } from './modules/customer-directory/customer-directory.service.js';
import type { QueueService } from './modules/queue/queue.service.js';
import type { SlaService } from './modules/sla/sla.service.js';
import type { TicketSlaPort } from './modules/ticket/ticket.sla-port.js';
import type { TicketService } from './modules/ticket/ticket.service.js';

export interface ServiceDeskServices {
  customerDirectory: CustomerDirectory;
  queues: QueueService;
  tickets: TicketService;
  /** What the SLA scheduler calls (src/modules/sla). */
  ticketSlaPort: TicketSlaPort;
  /** SLA policy, Ticket.sla and escalations (src/modules/sla). */
  sla: SlaService;
  /** Knowledge base (src/modules/article). */
  articles: ArticleService;
}

export type ServiceDeskContext = RequestContext<ServiceDeskServices>;
