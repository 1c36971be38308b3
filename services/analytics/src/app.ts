import { DateTimeScalar, loadSchema, runSubgraph } from '@crm/subgraph';
import type { AnalyticsServices } from './context.js';
import type { AnalyticsEnv } from './env.js';
import { createCustomerStatsConsumer } from './modules/customer-stats/customer-stats.consumer.js';
import { customerFactModel } from './modules/customer-stats/customer-stats.model.js';
import { customerStatsResolvers } from './modules/customer-stats/customer-stats.resolvers.js';
import { CustomerStatsService } from './modules/customer-stats/customer-stats.service.js';

export const SERVICE_NAME = 'analytics';
export const typeDefs = loadSchema(new URL('..', import.meta.url));

/** Starts the analytics subgraph and its consumers; used by `main.ts` and by the integration tests. */
export function startAnalytics(env: AnalyticsEnv, options: { handleSignals?: boolean } = {}) {
  return runSubgraph<AnalyticsServices>({
    name: SERVICE_NAME,
    env,
    typeDefs,
    handleSignals: options.handleSignals ?? false,
    setup: ({ connection, kafka, logger }) => {
      const facts = customerFactModel(connection);
      return {
        services: { customerStats: new CustomerStatsService(facts) },
        resolvers: { ...customerStatsResolvers, DateTime: DateTimeScalar },
        consumers: [createCustomerStatsConsumer({ client: kafka, connection, facts, logger, groupId: env.CUSTOMER_STATS_GROUP })],
      };
    },
  });
}
