import { PersonalDataOpener, personalDataOwner } from '@crm/personal-data';
import { DateScalar, DateTimeScalar, gatewaySecretsOf, loadSchema, mergeResolvers, runSubgraph } from '@crm/subgraph';
import type { CustomersEnv } from './env.js';
import type { CustomersServices } from './context.js';
import { createTimelineConsumer } from './modules/activity/activity.consumer.js';
import { activityModel } from './modules/activity/activity.model.js';
import { activityResolvers } from './modules/activity/activity.resolvers.js';
import { ActivityService } from './modules/activity/activity.service.js';
import { timelineEntryModel } from './modules/activity/timeline.model.js';
import { TimelineService } from './modules/activity/timeline.service.js';
import { IdentityVault } from './modules/customer/customer.crypto.js';
import { customerModel } from './modules/customer/customer.model.js';
import { customerResolvers } from './modules/customer/customer.resolvers.js';
import { CustomerService } from './modules/customer/customer.service.js';
import { customerExportHandler, EXPORT_PATH } from './modules/customer-export/customer-export.route.js';
import { customerGroupModel } from './modules/customer-group/customer-group.model.js';
import { customerGroupResolvers } from './modules/customer-group/customer-group.resolvers.js';
import { CustomerGroupService } from './modules/customer-group/customer-group.service.js';
import { customerImportModels } from './modules/customer-import/customer-import.model.js';
import { customerImportResolvers } from './modules/customer-import/customer-import.resolvers.js';
import { CustomerImportService } from './modules/customer-import/customer-import.service.js';
import { createLeadConversionConsumer } from './modules/lead-conversion/lead-conversion.consumer.js';
import { leadMatchResolvers } from './modules/lead-match/lead-match.resolvers.js';
import { feedbackModel } from './modules/feedback/feedback.model.js';
import { feedbackResolvers } from './modules/feedback/feedback.resolvers.js';
import { FeedbackService } from './modules/feedback/feedback.service.js';
import { organizationModel } from './modules/organization/organization.model.js';
import { organizationResolvers } from './modules/organization/organization.resolvers.js';
import { OrganizationService } from './modules/organization/organization.service.js';

export const SERVICE_NAME = 'customers';
export const typeDefs = loadSchema(new URL('..', import.meta.url));

/** Starts the customers subgraph; used by `main.ts` and by the integration tests. */
export async function startCustomers(env: CustomersEnv, options: { handleSignals?: boolean } = {}) {
  let personalData!: ReturnType<typeof personalDataOwner>;
  const running = await runSubgraph<CustomersServices>({
    name: SERVICE_NAME,
    env,
    typeDefs,
    handleSignals: options.handleSignals ?? false,
    setup: ({ connection, relay, logger, kafka }) => {
      const customers = customerModel(connection);
      const organizationRecords = organizationModel(connection);
      const customerService = new CustomerService(customers, relay, new IdentityVault(env.CUSTOMER_PII_KEY, env.CUSTOMER_PII_HASH_KEY, env.CUSTOMER_PII_PREVIOUS_KEYS));
      // SYS-6: personal fields of customer.* leave for Kafka sealed with the person's own key; erasing
      // the customer shreds it, so the copies in Kafka's history can no longer be read.
      personalData = personalDataOwner({ connection, relay, entities: ['customer'], env, logger });
      // The records merged into this one were the same person: their events go unreadable too.
      customerService.onErase(async (customerId) => {
        for (const id of await customerService.mergedInto(customerId)) await personalData.store.shred('customer', id);
      });
      const organizationService = new OrganizationService(organizationRecords, relay);
      customerService.useOrganizations(async (id) => (await organizationService.require(id)).name);
      const feedbackRecords = feedbackModel(connection);
      const activityRecords = activityModel(connection);
      const timeline = new TimelineService(timelineEntryModel(connection), activityRecords, customers, customerService);
      return {
        services: {
          customers: customerService,
          organizations: organizationService,
          groups: new CustomerGroupService(customerGroupModel(connection), customerService),
          feedback: new FeedbackService(feedbackRecords, customerService, relay),
          customerImports: new CustomerImportService(customerImportModels(connection), customerService, logger.child({ module: 'customer-import' }), { relay }),
          activities: new ActivityService(activityRecords, customers, customerService, timeline, relay, logger.child({ module: 'activity' })),
          timeline,
        },
        resolvers: mergeResolvers(customerResolvers, organizationResolvers, customerGroupResolvers, feedbackResolvers, customerImportResolvers, activityResolvers, leadMatchResolvers, { DateTime: DateTimeScalar, Date: DateScalar }),
        outboxModels: [customers, organizationRecords, feedbackRecords, activityRecords],
        // CUS-4: the timeline projection (activity.logged, ticket.opened; see the service README).
        // SAL-2: customers from converted sales leads (lead.converted).
        consumers: [createTimelineConsumer({ client: kafka, connection, timeline, logger }), createLeadConversionConsumer({ client: kafka, connection, customers: customerService, logger, personalData: PersonalDataOpener.fromEnv(env, logger) })],
      };
    },
  });
  // CUS-5 exports: a streamed HTTP download beside /graphql (express serves routes added after listen).
  running.server.app.get(EXPORT_PATH, customerExportHandler({ customers: running.services.customers, verifier: running.deps.verifier, gatewaySecret: gatewaySecretsOf(env), logger: running.deps.logger }));
  // The other services' consumers fetch customers' keys here (not through the gateway).
  running.server.app.use(personalData.router);
  const stopSubgraph = running.stop;
  // Import jobs stop after their current batch (left QUEUED for a later run) before Mongo closes.
  const stop = async () => {
    await running.services.customerImports.stop();
    await stopSubgraph();
  };
  return { ...running, stop };
}
