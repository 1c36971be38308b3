import { SafeIntScalar } from '@crm/money';
import { DateTimeScalar, loadSchema, runSubgraph } from '@crm/subgraph';
import type { MarketingEnv } from './env.js';
import type { MarketingServices } from './context.js';
import { campaignModel } from './modules/campaign/campaign.model.js';
import { campaignResolvers } from './modules/campaign/campaign.resolvers.js';
import { CampaignService } from './modules/campaign/campaign.service.js';

export const SERVICE_NAME = 'marketing';
export const typeDefs = loadSchema(new URL('..', import.meta.url));

/** Starts the marketing subgraph; used by `main.ts` and by the integration tests. */
export function startMarketing(env: MarketingEnv, options: { handleSignals?: boolean } = {}) {
  return runSubgraph<MarketingServices>({
    name: SERVICE_NAME,
    env,
    typeDefs,
    handleSignals: options.handleSignals ?? false,
    setup: ({ connection, relay }) => {
      const campaigns = campaignModel(connection);
      return {
        services: { campaigns: new CampaignService(campaigns, relay) },
        resolvers: { ...campaignResolvers, DateTime: DateTimeScalar, SafeInt: SafeIntScalar },
        outboxModels: [campaigns],
      };
    },
  });
}
