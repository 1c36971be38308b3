import { SafeIntScalar } from '@crm/money';
import { personalDataOwner } from '@crm/personal-data';
import { DateScalar, DateTimeScalar, loadSchema, mergeResolvers, runSubgraph } from '@crm/subgraph';
import type { SalesEnv } from './env.js';
import type { SalesServices } from './context.js';
import { productModel } from './modules/product/product.model.js';
import { productResolvers } from './modules/product/product.resolvers.js';
import { ProductService } from './modules/product/product.service.js';
import { stockLevelModel, stockMovementModel } from './modules/stock/stock.model.js';
import { stockResolvers } from './modules/stock/stock.resolvers.js';
import { expenseModel } from './modules/expense/expense.model.js';
import { expenseResolvers } from './modules/expense/expense.resolvers.js';
import { ExpenseService } from './modules/expense/expense.service.js';
import { productImportModels } from './modules/product-import/product-import.model.js';
import { productImportResolvers } from './modules/product-import/product-import.resolvers.js';
import { ProductImportService } from './modules/product-import/product-import.service.js';
import { StockService } from './modules/stock/stock.service.js';
import { customerReferenceResolvers } from './shared/customer-reference.resolvers.js';
import { contractModel } from './modules/contract/contract.model.js';
import { contractResolvers } from './modules/contract/contract.resolvers.js';
import { ContractService } from './modules/contract/contract.service.js';
import { orderModel } from './modules/order/order.model.js';
import { orderResolvers } from './modules/order/order.resolvers.js';
import { OrderService } from './modules/order/order.service.js';
import { quoteModel } from './modules/quote/quote.model.js';
import { quoteResolvers } from './modules/quote/quote.resolvers.js';
import { QuoteService } from './modules/quote/quote.service.js';
import { productCatalog } from './shared/pricing.js';
import { OnceClaims, Scheduler } from '@crm/scheduler';
import { createCustomerLinkConsumer, CustomerLinkRegistry } from '@crm/customer-link';
import { salesErasers } from './modules/customer-erasure/customer-erasure.js';
import { forecastResolvers } from './modules/forecast/forecast.resolvers.js';
import { ForecastService } from './modules/forecast/forecast.service.js';
import { leadModel } from './modules/lead/lead.model.js';
import { leadResolvers } from './modules/lead/lead.resolvers.js';
import { LeadService } from './modules/lead/lead.service.js';
import { opportunityModel } from './modules/opportunity/opportunity.model.js';
import { opportunityResolvers } from './modules/opportunity/opportunity.resolvers.js';
import { OpportunityService } from './modules/opportunity/opportunity.service.js';
import { pipelineModel } from './modules/pipeline/pipeline.model.js';
import { pipelineResolvers } from './modules/pipeline/pipeline.resolvers.js';
import { PipelineService } from './modules/pipeline/pipeline.service.js';

export const SERVICE_NAME = 'sales';
export const typeDefs = loadSchema(new URL('..', import.meta.url));

/** Starts the sales subgraph; used by `main.ts` and by the integration tests. */
export async function startSales(env: SalesEnv, options: { handleSignals?: boolean } = {}) {
  let scheduler: Scheduler | undefined;
  let personalData!: ReturnType<typeof personalDataOwner>;
  const running = await runSubgraph<SalesServices>({
    name: SERVICE_NAME,
    env,
    typeDefs,
    handleSignals: options.handleSignals ?? false,
    setup: ({ connection, relay, logger, kafka }) => {
      // SYS-6: a lead's name, company, contact and notes leave for Kafka sealed with the lead's own key.
      personalData = personalDataOwner({ connection, relay, entities: ['lead'], env, logger });
      const products = productModel(connection);
      const productService = new ProductService(products, relay);
      relay.register(products, { serializer: productService.serial });
      const stockLevels = stockLevelModel(connection);
      const stock = new StockService(stockLevels, stockMovementModel(connection), products, relay);
      // The relay's removal of published events joins the stock writes' queue (FerretDB v1 updates are not atomic).
      relay.register(stockLevels, { serializer: stock.serial });
      const expenses = expenseModel(connection);
      const expenseService = new ExpenseService(expenses, relay);
      relay.register(expenses, { serializer: expenseService.serial });
      const productImports = new ProductImportService(productImportModels(connection), productService, logger.child({ module: 'product-import' }), { relay });
      // Quotes, contracts, orders (SAL-4..6): the relay's event removal joins each one's write queue too.
      const [quotes, contracts, orders] = [quoteModel(connection), contractModel(connection), orderModel(connection)];
      const claims = new OnceClaims(connection);
      const catalog = productCatalog(products);
      const contractService = new ContractService(contracts, relay, { renewalLeadDays: env.CONTRACT_RENEWAL_LEAD_DAYS, companyName: env.SALES_COMPANY_NAME, claims });
      const orderService = new OrderService(orders, relay, catalog, stock, { approvalThresholds: env.ORDER_APPROVAL_THRESHOLD_MINOR });
      const quoteService = new QuoteService(quotes, relay, catalog, contractService, orderService, { validityDays: env.QUOTE_VALIDITY_DAYS, claims });
      relay.register(quotes, { serializer: quoteService.serial }).register(contracts, { serializer: contractService.serial }).register(orders, { serializer: orderService.serial });
      scheduler = new Scheduler(
        [
          { name: 'contract-expiry', run: (now) => contractService.expireEnded(now) },
          { name: 'contract-renewal-due', run: (now) => contractService.sendRenewalReminders(now) },
          { name: 'quote-expiry', run: (now) => quoteService.expireOverdue(now) },
          { name: 'stock-orphaned-reservations', run: (now) => stock.releaseOrphanedReservations(now, (ids) => orderService.existingIds(ids)) },
        ],
        { intervalMs: env.SALES_SCHEDULER_INTERVAL_MS, logger },
      );
      // Leads, opportunities, pipeline, forecast (SAL-2, SAL-3, SAL-8); customer.merged re-points customer ids.
      const [leads, opportunities] = [leadModel(connection), opportunityModel(connection)];
      const pipeline = new PipelineService(pipelineModel(connection));
      const opportunityService = new OpportunityService(opportunities, pipeline, relay);
      pipeline.useStageUsage((keys) => opportunityService.stagesInUse(keys));
      const leadService = new LeadService(leads, opportunityService, relay);
      relay.register(leads, { serializer: leadService.serial }).register(opportunities, { serializer: opportunityService.serial });
      // Every sales module with a customerId registers here (see README, customer-link).
      const customerLinks = new CustomerLinkRegistry()
        .register('leads', (from, to) => leadService.repointCustomer(from, to))
        .register('opportunities', (from, to) => opportunityService.repointCustomer(from, to))
        .register('quotes', (from, to) => quoteService.repointCustomer(from, to))
        .register('contracts', (from, to) => contractService.repointCustomer(from, to))
        .register('orders', (from, to) => orderService.repointCustomer(from, to))
        .register('expenses', (from, to) => expenseService.repointCustomer(from, to));
      // customer.erased (SYS-6): the person's leads' keys go first (their events in Kafka become
      // unreadable), then each module erases what it holds about the person.
      customerLinks.registerErasure('lead-keys', async (customerId) => {
        const ofPerson = await leads.find({ customerId: customerId.toLowerCase() }, { _id: 1 }).lean<Array<{ _id: { toHexString(): string } }>>().exec();
        for (const lead of ofPerson) await personalData.store.shred('lead', lead._id.toHexString());
        return ofPerson.length;
      });
      for (const [module, erase] of Object.entries(salesErasers(relay, { leads, opportunities, quotes, contracts, orders, expenses }))) customerLinks.registerErasure(module, erase);
      return {
        services: { products: productService, stock, expenses: expenseService, productImports, quotes: quoteService, contracts: contractService, orders: orderService, leads: leadService, opportunities: opportunityService, pipeline, forecast: new ForecastService(opportunityService, pipeline), customerLinks },
        resolvers: mergeResolvers(customerReferenceResolvers, productResolvers, stockResolvers, expenseResolvers, productImportResolvers, quoteResolvers, contractResolvers, orderResolvers, leadResolvers, opportunityResolvers, pipelineResolvers, forecastResolvers, { DateTime: DateTimeScalar, Date: DateScalar, SafeInt: SafeIntScalar }),
        outboxModels: [products, stockLevels, expenses, quotes, contracts, orders, leads, opportunities],
        consumers: [createCustomerLinkConsumer({ client: kafka, connection, registry: customerLinks, logger, service: SERVICE_NAME })],
      };
    },
  });
  // The other services' consumers fetch leads' keys here (not through the gateway).
  running.server.app.use(personalData.router);
  // The scheduler runs in every replica (its jobs claim each change once) and stops before the rest.
  const salesScheduler = scheduler!;
  salesScheduler.start();
  if (options.handleSignals) for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void salesScheduler.stop());
  const stop = running.stop;
  // Import jobs stop after their current batch (left QUEUED for a later run) before Mongo closes.
  return { ...running, scheduler: salesScheduler, stop: async () => (await salesScheduler.stop(), await running.services.productImports.stop(), stop()) };
}
