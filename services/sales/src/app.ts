import { SafeIntScalar } from '@crm/money';
import { DateScalar, DateTimeScalar, loadSchema, mergeResolvers, runSubgraph } from '@crm/subgraph';
import type { SalesEnv } from './env.js';
import type { SalesServices } from './context.js';
import { productModel } from './modules/product/product.model.js';
import { productResolvers } from './modules/product/product.resolvers.js';
import { ProductService } from './modules/product/product.service.js';
import { stockLevelModel, stockMovementModel } from './modules/stock/stock.model.js';
import { stockResolvers } from './modules/stock/stock.resolvers.js';
import { StockService } from './modules/stock/stock.service.js';
import { customerReferenceResolvers } from './shared/customer-reference.resolvers.js';

export const SERVICE_NAME = 'sales';
export const typeDefs = loadSchema(new URL('..', import.meta.url));

/** Starts the sales subgraph; used by `main.ts` and by the integration tests. */
export function startSales(env: SalesEnv, options: { handleSignals?: boolean } = {}) {
  return runSubgraph<SalesServices>({
    name: SERVICE_NAME,
    env,
    typeDefs,
    handleSignals: options.handleSignals ?? false,
    setup: ({ connection, relay }) => {
      const products = productModel(connection);
      const productService = new ProductService(products, relay);
      relay.register(products, { serializer: productService.serial });
      const stockLevels = stockLevelModel(connection);
      const stock = new StockService(stockLevels, stockMovementModel(connection), products, relay);
      // The relay's removal of published events joins the stock writes' queue (FerretDB v1 updates are not atomic).
      relay.register(stockLevels, { serializer: stock.serial });
      return {
        services: { products: productService, stock },
        resolvers: mergeResolvers(customerReferenceResolvers, productResolvers, stockResolvers, { DateTime: DateTimeScalar, Date: DateScalar, SafeInt: SafeIntScalar }),
        outboxModels: [products, stockLevels],
      };
    },
  });
}
