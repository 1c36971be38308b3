import { DateTimeScalar, loadSchema, mergeResolvers, runSubgraph } from '@crm/subgraph';
import type { ServiceDeskServices } from './context.js';
import type { ServiceDeskEnv } from './env.js';
import { entityReferenceResolvers } from './shared/entity-references.js';
import { createCustomerLinkConsumer, CustomerLinkRegistry } from '@crm/customer-link';
import { afterSalesModel } from './modules/after-sales/after-sales.model.js';
import { afterSalesResolvers } from './modules/after-sales/after-sales.resolvers.js';
import { AfterSalesService } from './modules/after-sales/after-sales.service.js';
import { createOrderDirectoryConsumer } from './modules/order-directory/order-directory.consumer.js';
import { orderDirectoryModel } from './modules/order-directory/order-directory.model.js';
import { OrderDirectory } from './modules/order-directory/order-directory.service.js';
import { conversationModel } from './modules/conversation/conversation.model.js';
import { conversationResolvers } from './modules/conversation/conversation.resolvers.js';
import { ConversationService } from './modules/conversation/conversation.service.js';
import { articleModel } from './modules/article/article.model.js';
import { articleResolvers } from './modules/article/article.resolvers.js';
import { ArticleService } from './modules/article/article.service.js';
import { queueModels } from './modules/queue/queue.model.js';
import { queueResolvers } from './modules/queue/queue.resolvers.js';
import { QueueService } from './modules/queue/queue.service.js';
import { createTicketOrderConsumer } from './modules/ticket/ticket.consumer.js';
import { ticketModel } from './modules/ticket/ticket.model.js';
import { ticketResolvers } from './modules/ticket/ticket.resolvers.js';
import { TicketService } from './modules/ticket/ticket.service.js';
import { slaClockHooks } from './modules/ticket/ticket.sla.js';
import { TicketSlaPort } from './modules/ticket/ticket.sla-port.js';
import { OnceClaims, Scheduler } from '@crm/scheduler';
import { SlaEscalator } from './modules/sla/sla.escalation.js';
import { slaModels } from './modules/sla/sla.model.js';
import { slaResolvers } from './modules/sla/sla.resolvers.js';
import { SlaService } from './modules/sla/sla.service.js';
import { createCustomerDirectoryConsumer } from './modules/customer-directory/customer-directory.consumer.js';
import { customerDirectoryModel } from './modules/customer-directory/customer-directory.model.js';
import { CustomerDirectory } from './modules/customer-directory/customer-directory.service.js';

export const SERVICE_NAME = 'service-desk';
export const typeDefs = loadSchema(new URL('..', import.meta.url));

/** Starts the service-desk subgraph; used by `main.ts` and by the integration tests. */
export async function startServiceDesk(env: ServiceDeskEnv, options: { handleSignals?: boolean } = {}) {
  let scheduler: Scheduler | undefined;
  const running = await runSubgraph<ServiceDeskServices>({
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
      // SLA (SVC-2): the clock on every ticket transition with the policy in force (cached, refreshed in
      // the background); breaches escalated once by the scheduler through the ticket module's port.
      const { policies: slaPolicies, escalations: slaEscalations } = slaModels(connection);
      const sla = new SlaService(slaPolicies, slaEscalations, { cacheMs: env.SLA_POLICY_CACHE_MS });
      ticketService.useSla(slaClockHooks(() => sla.policyNow()));
      relay.register(tickets, { serializer: ticketService.serial });
      const ticketSlaPort = new TicketSlaPort(ticketService);
      const escalator = new SlaEscalator(ticketSlaPort, sla, new OnceClaims(connection), { batchSize: env.SLA_ESCALATION_BATCH, logger: logger.child({ module: 'sla' }) });
      scheduler = new Scheduler([escalator.job()], { intervalMs: env.SLA_ESCALATION_INTERVAL_MS, logger });
      // Knowledge base (SVC-4): the relay's event removal joins each article's write queue.
      const articles = articleModel(connection);
      const articleService = new ArticleService(articles, relay);
      relay.register(articles, { serializer: articleService.serial });
      // After-sales records (SVC-6), checked against the orders known from sales' order.* events.
      const orderDirectory = new OrderDirectory(orderDirectoryModel(connection));
      const afterSalesRecords = afterSalesModel(connection);
      const afterSales = new AfterSalesService(
        afterSalesRecords,
        relay,
        orderDirectory,
        { customerIdOf: (user) => customerDirectory.customerIdOf(user), ticketOf: (id, user) => ticketService.get(id, user) },
        { returnWindowDays: env.AFTER_SALES_RETURN_WINDOW_DAYS },
      );
      relay.register(afterSalesRecords, { serializer: afterSales.serial });
      // Online service (SVC-5): automatic answers from the knowledge base, hand-over through the ticket module's port.
      const conversationDocs = conversationModel(connection);
      const conversations = new ConversationService(
        conversationDocs,
        relay,
        {
          customerIdOf: (user) => customerDirectory.customerIdOf(user),
          answer: (question, productId, first, minScore) => articleService.answer(question, productId, first, minScore),
          openFromConversation: (input, user) => ticketService.openFromConversation(input, user),
          addConversationMessage: (ticketId, text, user) => ticketService.addConversationMessage(ticketId, text, user),
        },
        { answers: env.CONVERSATION_ANSWERS, minScore: env.CONVERSATION_MIN_SCORE },
      );
      relay.register(conversationDocs, { serializer: conversations.serial });
      // customer.merged: every module storing a customerId registers here (see @crm/customer-link).
      const customerLinks = new CustomerLinkRegistry()
        .register('tickets', (from, to) => ticketService.repointCustomer(from, to))
        .register('after-sales', (from, to) => afterSales.repointCustomer(from, to))
        .register('conversations', (from, to) => conversations.repointCustomer(from, to))
        // customer.erased (SYS-6): each module erases what it holds about the person.
        .registerErasure('tickets', (id) => ticketService.eraseCustomer(id))
        .registerErasure('after-sales', (id) => afterSales.eraseCustomer(id))
        .registerErasure('conversations', (id) => conversations.eraseCustomer(id));
      return {
        services: { customerDirectory, queues, tickets: ticketService, ticketSlaPort, sla, articles: articleService, conversations, orderDirectory, afterSales, customerLinks },
        resolvers: mergeResolvers(entityReferenceResolvers, queueResolvers, ticketResolvers, slaResolvers, articleResolvers, afterSalesResolvers, conversationResolvers, { DateTime: DateTimeScalar }),
        outboxModels: [tickets, articles, afterSalesRecords, conversationDocs],
        consumers: [
          createCustomerDirectoryConsumer({ client: kafka, connection, directory: customerDirectory, logger }),
          createTicketOrderConsumer({ client: kafka, connection, tickets: ticketService, logger }),
          createOrderDirectoryConsumer({ client: kafka, connection, directory: orderDirectory, logger }),
          createCustomerLinkConsumer({ client: kafka, connection, registry: customerLinks, logger, service: SERVICE_NAME }),
        ],
      };
    },
  });
  // The policy is read once before tickets open (the clock hooks read it synchronously); the SLA
  // scheduler runs in every replica (each breach is claimed once) and stops before the rest.
  await running.services.sla.current();
  const slaScheduler = scheduler!;
  slaScheduler.start();
  if (options.handleSignals) for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void slaScheduler.stop());
  const stop = running.stop;
  return { ...running, scheduler: slaScheduler, stop: async () => (await slaScheduler.stop(), await stop()) };
}
