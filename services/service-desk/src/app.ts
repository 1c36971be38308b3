import { DateTimeScalar, loadSchema, mergeResolvers, runSubgraph } from '@crm/subgraph';
import type { ServiceDeskServices } from './context.js';
import type { ServiceDeskEnv } from './env.js';
import { entityReferenceResolvers } from './shared/entity-references.js';
import { queueModels } from './modules/queue/queue.model.js';
import { queueResolvers } from './modules/queue/queue.resolvers.js';
import { QueueService } from './modules/queue/queue.service.js';
import { createTicketOrderConsumer } from './modules/ticket/ticket.consumer.js';
import { ticketModel } from './modules/ticket/ticket.model.js';
import { ticketResolvers } from './modules/ticket/ticket.resolvers.js';
import { TicketService } from './modules/ticket/ticket.service.js';
import { slaClockHooks } from './modules/ticket/ticket.sla.js';
import { TicketSlaPort } from './modules/ticket/ticket.sla-port.js';
import { DEFAULT_SLA_POLICY } from './modules/sla/sla.policy.js';
import { createCustomerDirectoryConsumer } from './modules/customer-directory/customer-directory.consumer.js';
import { customerDirectoryModel } from './modules/customer-directory/customer-directory.model.js';
import { CustomerDirectory } from './modules/customer-directory/customer-directory.service.js';

export const SERVICE_NAME = 'service-desk';
export const typeDefs = loadSchema(new URL('..', import.meta.url));

/** Starts the service-desk subgraph; used by `main.ts` and by the integration tests. */
export function startServiceDesk(env: ServiceDeskEnv, options: { handleSignals?: boolean } = {}) {
  return runSubgraph<ServiceDeskServices>({
    name: SERVICE_NAME,
    env,
    typeDefs,
    handleSignals: options.handleSignals ?? false,
    setup: ({ connection, relay, kafka, logger }) => {
      // Which customer a self-service caller is, and who owns a customer (from customer.* events).
      const customerDirectory = new CustomerDirectory(customerDirectoryModel(connection));
      // Tickets (SVC-1, SVC-3) and their queues; the relay's event removal joins each ticket's write queue.
      const { queues: queueModel, slots } = queueModels(connection);
      const queues = new QueueService(queueModel, slots);
      const tickets = ticketModel(connection);
      const ticketService = new TicketService(tickets, relay, queues, customerDirectory, { approvalTypes: env.TICKET_APPROVAL_TYPES, reopenWindowDays: env.TICKET_REOPEN_WINDOW_DAYS });
      // SLA clock on every transition; the default policy until the SLA module's policy store is wired here.
      ticketService.useSla(slaClockHooks(() => DEFAULT_SLA_POLICY));
      relay.register(tickets, { serializer: ticketService.serial });
      const ticketSlaPort = new TicketSlaPort(ticketService);
      return {
        services: { customerDirectory, queues, tickets: ticketService, ticketSlaPort },
        resolvers: mergeResolvers(entityReferenceResolvers, queueResolvers, ticketResolvers, { DateTime: DateTimeScalar }),
        outboxModels: [tickets],
        consumers: [
          createCustomerDirectoryConsumer({ client: kafka, connection, directory: customerDirectory, logger }),
          createTicketOrderConsumer({ client: kafka, connection, tickets: ticketService, logger }),
        ],
      };
    },
  });
}
