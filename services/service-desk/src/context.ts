import type { CustomerLinkRegistry } from '@crm/customer-link';
import type { RequestContext } from '@crm/subgraph';
import type { AfterSalesService } from './modules/after-sales/after-sales.service.js';
import type { ArticleService } from './modules/article/article.service.js';
import type { ConversationService } from './modules/conversation/conversation.service.js';
import type { OrderDirectory } from './modules/order-directory/order-directory.service.js';
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
  /** Online service (src/modules/conversation). */
  conversations: ConversationService;
  /** Orders from the sales service's events (src/modules/order-directory). */
  orderDirectory: OrderDirectory;
  /** Returns, repairs, replacements (src/modules/after-sales). */
  afterSales: AfterSalesService;
  /** Modules re-pointing customer ids on customer.merged (@crm/customer-link). */
  customerLinks: CustomerLinkRegistry;
}

export type ServiceDeskContext = RequestContext<ServiceDeskServices>;
