import { SafeIntScalar } from '@crm/money';
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
import { OnceClaims, SalesScheduler } from './shared/scheduler.js';

export const SERVICE_NAME = 'sales';
export const typeDefs = loadSchema(new URL('..', import.meta.url));

/** Starts the sales subgraph; used by `main.ts` and by the integration tests. */
export async function startSales(env: SalesEnv, options: { handleSignals?: boolean } = {}) {
  let scheduler: SalesScheduler | undefined;
  const running = await runSubgraph<SalesServices>({
    name: SERVICE_NAME,
    env,
    typeDefs,
    handleSignals: options.handleSignals ?? false,
    setup: ({ connection, relay, logger }) => {
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
      // Quotes, contracts, orders (SAL-4..6): the relay's event removal joins each one's write queue too.
      const [quotes, contracts, orders] = [quoteModel(connection), contractModel(connection), orderModel(connection)];
      const claims = new OnceClaims(connection);
      const catalog = productCatalog(products);
      const contractService = new ContractService(contracts, relay, { renewalLeadDays: env.CONTRACT_RENEWAL_LEAD_DAYS, companyName: env.SALES_COMPANY_NAME, claims });
      const orderService = new OrderService(orders, relay, catalog, stock, { approvalThresholds: env.ORDER_APPROVAL_THRESHOLD_MINOR });
      const quoteService = new QuoteService(quotes, relay, catalog, contractService, orderService, { validityDays: env.QUOTE_VALIDITY_DAYS, claims });
      relay.register(quotes, { serializer: quoteService.serial }).register(contracts, { serializer: contractService.serial }).register(orders, { serializer: orderService.serial });
      scheduler = new SalesScheduler(
        [
          { name: 'contract-expiry', run: (now) => contractService.expireEnded(now) },
          { name: 'contract-renewal-due', run: (now) => contractService.sendRenewalReminders(now) },
          { name: 'quote-expiry', run: (now) => quoteService.expireOverdue(now) },
        ],
        { intervalMs: env.SALES_SCHEDULER_INTERVAL_MS, logger },
      );
      return {
        services: { products: productService, stock, expenses: expenseService, quotes: quoteService, contracts: contractService, orders: orderService },
        resolvers: mergeResolvers(customerReferenceResolvers, productResolvers, stockResolvers, expenseResolvers, quoteResolvers, contractResolvers, orderResolvers, { DateTime: DateTimeScalar, Date: DateScalar, SafeInt: SafeIntScalar }),
        outboxModels: [products, stockLevels, expenses, quotes, contracts, orders],
      };
    },
  });
  // The scheduler runs in every replica (its jobs claim each change once) and stops before the rest.
  const salesScheduler = scheduler!;
  salesScheduler.start();
  if (options.handleSignals) for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void salesScheduler.stop());
  const stop = running.stop;
  return { ...running, scheduler: salesScheduler, stop: async () => (await salesScheduler.stop(), stop()) };
}
