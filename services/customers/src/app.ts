import { DateScalar, DateTimeScalar, loadSchema, runSubgraph } from '@crm/subgraph';
import type { CustomersEnv } from './env.js';
import type { CustomersServices } from './context.js';
import { IdentityVault } from './modules/customer/customer.crypto.js';
import { customerModel } from './modules/customer/customer.model.js';
import { customerResolvers } from './modules/customer/customer.resolvers.js';
import { CustomerService } from './modules/customer/customer.service.js';

export const SERVICE_NAME = 'customers';
export const typeDefs = loadSchema(new URL('../schema.graphql', import.meta.url));

/** Starts the customers subgraph; used by `main.ts` and by the integration tests. */
export function startCustomers(env: CustomersEnv, options: { handleSignals?: boolean } = {}) {
  return runSubgraph<CustomersServices>({
    name: SERVICE_NAME,
    env,
    typeDefs,
    handleSignals: options.handleSignals ?? false,
    setup: ({ connection, relay }) => {
      const customers = customerModel(connection);
      return {
        services: { customers: new CustomerService(customers, relay, new IdentityVault(env.CUSTOMER_PII_KEY, env.CUSTOMER_PII_HASH_KEY)) },
        resolvers: { ...customerResolvers, DateTime: DateTimeScalar, Date: DateScalar },
        outboxModels: [customers],
      };
    },
  });
}
