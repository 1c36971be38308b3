import { SafeIntScalar } from '@crm/money';
import { PerKeySerializer } from '@crm/mongo';
import { OnceClaims, Scheduler } from '@crm/scheduler';
import { DateTimeScalar, gatewaySecretsOf, loadSchema, mergeResolvers, runSubgraph } from '@crm/subgraph';
import type { AnalyticsServices } from './context.js';
import type { AnalyticsEnv } from './env.js';
import { customerStatsResolvers } from './modules/customer-stats/customer-stats.resolvers.js';
import { CustomerStatsService } from './modules/customer-stats/customer-stats.service.js';
import { createCustomerConsumer } from './modules/customer-value/customer-value.consumer.js';
import { PersonalDataOpener } from '@crm/personal-data';
import { customerValueJob } from './modules/customer-value/customer-value.job.js';
import { customerValueModels } from './modules/customer-value/customer-value.model.js';
import { customerValueResolvers } from './modules/customer-value/customer-value.resolvers.js';
import { CustomerValueService } from './modules/customer-value/customer-value.service.js';
import { createFunnelConsumer } from './modules/funnel/funnel.consumer.js';
import { funnelModels } from './modules/funnel/funnel.model.js';
import { funnelResolvers } from './modules/funnel/funnel.resolvers.js';
import { FunnelService } from './modules/funnel/funnel.service.js';
import { patternsJob } from './modules/patterns/patterns.job.js';
import { patternModels } from './modules/patterns/patterns.model.js';
import { patternResolvers } from './modules/patterns/patterns.resolvers.js';
import { PatternService } from './modules/patterns/patterns.service.js';
import { REPORT_ROUTE, reportHandler } from './modules/report/report.route.js';
import { ReadModelConsumers } from './modules/read-model/read-model.consumers.js';
import { readModelResolvers } from './modules/read-model/read-model.resolvers.js';
import { ReadModelService } from './modules/read-model/read-model.service.js';
import { createSalesConsumer } from './modules/sales/sales.consumer.js';
import { salesModels } from './modules/sales/sales.model.js';
import { salesResolvers } from './modules/sales/sales.resolvers.js';
import { SalesReportService } from './modules/sales/sales.service.js';
import { createTicketConsumer } from './modules/service-report/service-report.consumer.js';
import { ticketFactModel } from './modules/service-report/service-report.model.js';
import { serviceReportResolvers } from './modules/service-report/service-report.resolvers.js';
import { ServiceReportService } from './modules/service-report/service-report.service.js';

export const SERVICE_NAME = 'analytics';
export const typeDefs = loadSchema(new URL('..', import.meta.url));

/** Starts the analytics subgraph, its read-model consumers and its scheduled jobs; used by `main.ts` and the tests. */
export async function startAnalytics(env: AnalyticsEnv, options: { handleSignals?: boolean } = {}) {
  let scheduler: Scheduler | undefined;
  const running = await runSubgraph<AnalyticsServices>({
    name: SERVICE_NAME,
    env,
    typeDefs,
    handleSignals: options.handleSignals ?? false,
    setup: ({ connection, kafka, logger, relay }) => {
      const factory = new ReadModelConsumers({ client: kafka, connection, logger, groupPrefix: env.ANALYTICS_GROUP_PREFIX });
      const sales = salesModels(connection);
      const values = customerValueModels(connection);
      const tickets = ticketFactModel(connection);
      const funnel = funnelModels(connection);
      const salesReports = new SalesReportService(sales, env.REPORTING_CURRENCY, env.ANALYTICS_TIME_ZONES);
      const serviceReports = new ServiceReportService(tickets);
      const customerValues = new CustomerValueService(values, serviceReports, { currency: env.REPORTING_CURRENCY, lifespanYears: env.CLV_LIFESPAN_YEARS }, new PerKeySerializer());
      relay.register(values.customerChurn, { serializer: customerValues.churnSerial });
      const patterns = new PatternService(patternModels(connection), connection, { currency: env.REPORTING_CURRENCY, windowDays: env.PATTERNS_WINDOW_DAYS, clusters: env.CUSTOMER_CLUSTERS });
      const claims = new OnceClaims(connection);
      const slotMs = env.ANALYTICS_JOB_INTERVAL_MS || 60_000;
      scheduler = new Scheduler([customerValueJob(customerValues, claims, slotMs), patternsJob(patterns, claims, slotMs)], { intervalMs: env.ANALYTICS_JOB_INTERVAL_MS, logger });
      const consumers = [
        createCustomerConsumer(factory, values, PersonalDataOpener.fromEnv(env, logger)),
        createSalesConsumer(factory, sales, connection, env.ANALYTICS_TIME_ZONES),
        createTicketConsumer(factory, tickets),
        createFunnelConsumer(factory, funnel),
      ];
      return {
        services: {
          customerStats: new CustomerStatsService(values.customerFacts),
          sales: salesReports,
          customerValues,
          serviceReports,
          funnel: new FunnelService(funnel, salesReports, env.REPORTING_CURRENCY),
          readModels: new ReadModelService(factory),
          patterns,
        },
        resolvers: mergeResolvers(customerStatsResolvers, salesResolvers, customerValueResolvers, serviceReportResolvers, funnelResolvers, patternResolvers, readModelResolvers, { DateTime: DateTimeScalar, SafeInt: SafeIntScalar }),
        consumers,
      };
    },
  });
  // ANA-8/ANA-10: reports as files and SVG charts beside /graphql (express serves routes added after listen).
  running.server.app.get(REPORT_ROUTE, reportHandler({ services: running.services, verifier: running.deps.verifier, gatewaySecret: gatewaySecretsOf(env), logger: running.deps.logger }));
  const jobs = scheduler!;
  jobs.start();
  if (options.handleSignals) for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void jobs.stop());
  const stop = running.stop;
  return { ...running, scheduler: jobs, stop: async () => (await jobs.stop(), await stop()) };
}
