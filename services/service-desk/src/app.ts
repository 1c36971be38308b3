import { DateTimeScalar, loadSchema, runSubgraph } from '@crm/subgraph';
import type { ServiceDeskServices } from './context.js';
import type { ServiceDeskEnv } from './env.js';
import { ticketModel } from './modules/ticket/ticket.model.js';
import { ticketResolvers } from './modules/ticket/ticket.resolvers.js';
import { TicketService } from './modules/ticket/ticket.service.js';
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
      const tickets = ticketModel(connection);
      return {
        services: { customerDirectory, tickets: new TicketService(tickets, relay) },
        resolvers: { ...ticketResolvers, DateTime: DateTimeScalar },
        outboxModels: [tickets],
        consumers: [createCustomerDirectoryConsumer({ client: kafka, connection, directory: customerDirectory, logger })],
      };
    },
  });
}
