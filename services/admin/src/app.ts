import { DateTimeScalar, loadSchema, mergeResolvers, runSubgraph } from '@crm/subgraph';
import type { AdminServices } from './context.js';
import type { AdminEnv } from './env.js';
import { createAuditConsumer } from './modules/audit/audit.consumer.js';
import { auditEntryModel } from './modules/audit/audit.model.js';
import { auditResolvers } from './modules/audit/audit.resolvers.js';
import { AuditService } from './modules/audit/audit.service.js';
import { createCustomerErasureConsumer } from './modules/user-account/customer-erasure.consumer.js';
import { KeycloakAdmin } from './modules/user-account/keycloak-admin.client.js';
import { userAccountModel } from './modules/user-account/user-account.model.js';
import { userAccountResolvers } from './modules/user-account/user-account.resolvers.js';
import { UserAccountService } from './modules/user-account/user-account.service.js';

export const SERVICE_NAME = 'admin';
export const typeDefs = loadSchema(new URL('..', import.meta.url));

/** Starts the admin subgraph; used by `main.ts` and by the integration tests. */
export async function startAdmin(env: AdminEnv, options: { handleSignals?: boolean } = {}) {
  return runSubgraph<AdminServices>({
    name: SERVICE_NAME,
    env,
    typeDefs,
    handleSignals: options.handleSignals ?? false,
    setup: ({ connection, relay, kafka, logger }) => {
      const keycloak = new KeycloakAdmin({ url: env.KEYCLOAK_URL, realm: env.KEYCLOAK_REALM, clientId: env.KEYCLOAK_ADMIN_CLIENT_ID, clientSecret: env.KEYCLOAK_ADMIN_CLIENT_SECRET });
      const accountRecords = userAccountModel(connection);
      const accounts = new UserAccountService(keycloak, accountRecords, relay, { setPasswordClientId: env.SET_PASSWORD_CLIENT_ID });
      const audit = new AuditService(auditEntryModel(connection));
      return {
        services: { accounts, audit },
        resolvers: mergeResolvers(userAccountResolvers, auditResolvers, { DateTime: DateTimeScalar }),
        outboxModels: [accountRecords],
        consumers: [createAuditConsumer({ client: kafka, connection, audit, logger }), createCustomerErasureConsumer({ client: kafka, connection, accounts, audit, logger })],
      };
    },
  });
}
