import { SafeIntScalar } from '@crm/money';
import { DateTimeScalar, loadSchema, mergeResolvers, runSubgraph } from '@crm/subgraph';
import type { MarketingEnv } from './env.js';
import type { MarketingServices } from './context.js';
import { campaignModel } from './modules/campaign/campaign.model.js';
import { campaignResolvers } from './modules/campaign/campaign.resolvers.js';
import { CampaignService } from './modules/campaign/campaign.service.js';
import { surveyModels } from './modules/survey/survey.model.js';
import { surveyResolvers } from './modules/survey/survey.resolvers.js';
import { SurveyService, WITHOUT_SEGMENTS } from './modules/survey/survey.service.js';

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
      const surveyRecords = surveyModels(connection);
      const surveys = new SurveyService(surveyRecords, relay, WITHOUT_SEGMENTS);
      relay.register(surveyRecords.surveys, { serializer: surveys.serial });
      return {
        services: { campaigns: new CampaignService(campaigns, relay), surveys },
        resolvers: mergeResolvers(campaignResolvers, surveyResolvers, { DateTime: DateTimeScalar, SafeInt: SafeIntScalar }),
        outboxModels: [campaigns, surveyRecords.surveys, surveyRecords.responses],
      };
    },
  });
}
