import { SafeIntScalar } from '@crm/money';
import { DateTimeScalar, loadSchema, mergeResolvers, runSubgraph } from '@crm/subgraph';
import type { MarketingEnv } from './env.js';
import type { MarketingServices } from './context.js';
import { contactConsentModel } from './modules/consent/consent.model.js';
import { consentResolvers } from './modules/consent/consent.resolvers.js';
import { ConsentService } from './modules/consent/consent.service.js';
import { EmailChannel, LogOnlyChannel, type MessageChannel } from './modules/message/message.channels.js';
import { messageModel } from './modules/message/message.model.js';
import { messageResolvers } from './modules/message/message.resolvers.js';
import { MessageService } from './modules/message/message.service.js';
import { holidayCalendar } from './modules/care/care.holidays.js';
import { carePlanModel } from './modules/care/care.model.js';
import { careResolvers } from './modules/care/care.resolvers.js';
import { CareService } from './modules/care/care.service.js';
import { Scheduler } from '@crm/scheduler';
import { createReferralConsumer } from './modules/referral/referral.consumer.js';
import { referralModels } from './modules/referral/referral.model.js';
import { referralResolvers } from './modules/referral/referral.resolvers.js';
import { ReferralService } from './modules/referral/referral.service.js';
import { createCampaignAttributionConsumer } from './modules/campaign/campaign.consumer.js';
import { campaignAttributionModel, campaignModel } from './modules/campaign/campaign.model.js';
import { campaignResolvers } from './modules/campaign/campaign.resolvers.js';
import { CampaignService } from './modules/campaign/campaign.service.js';
import { surveyModels } from './modules/survey/survey.model.js';
import { surveyResolvers } from './modules/survey/survey.resolvers.js';
import { SurveyService } from './modules/survey/survey.service.js';
import { channelModel } from './modules/channel/channel.model.js';
import { channelResolvers } from './modules/channel/channel.resolvers.js';
import { ChannelService } from './modules/channel/channel.service.js';
import { createCompetitorConsumer } from './modules/competitor/competitor.consumer.js';
import { competitorModels } from './modules/competitor/competitor.model.js';
import { competitorResolvers } from './modules/competitor/competitor.resolvers.js';
import { CompetitorService } from './modules/competitor/competitor.service.js';
import { createCustomerProfileConsumer } from './modules/customer-profile/customer-profile.consumer.js';
import { PersonalDataOpener } from '@crm/personal-data';
import { customerProfileModels } from './modules/customer-profile/customer-profile.model.js';
import { CustomerProfiles } from './modules/customer-profile/customer-profile.service.js';
import { marketingErasers } from './modules/customer-profile/customer-erasure.js';
import { segmentModels } from './modules/segment/segment.model.js';
import { segmentResolvers } from './modules/segment/segment.resolvers.js';
import { SegmentService } from './modules/segment/segment.service.js';

export const SERVICE_NAME = 'marketing';
export const typeDefs = loadSchema(new URL('..', import.meta.url));

/** Starts the marketing subgraph; used by `main.ts` and by the integration tests. */
export async function startMarketing(env: MarketingEnv, options: { handleSignals?: boolean } = {}) {
  let scheduler: Scheduler | undefined;
  const running = await runSubgraph<MarketingServices>({
    name: SERVICE_NAME,
    env,
    typeDefs,
    handleSignals: options.handleSignals ?? false,
    setup: ({ connection, relay, kafka, logger }) => {
      const campaigns = campaignModel(connection);
      const profileRecords = customerProfileModels(connection);
      const customerProfiles = new CustomerProfiles(profileRecords.profiles, profileRecords.orderFacts, { currency: env.VALUE_TIER_CURRENCY, tiers: env.VALUE_TIERS }, profileRecords.ticketFacts);
      const segmentRecords = segmentModels(connection);
      const segments = new SegmentService(segmentRecords.segments, segmentRecords.memberships, customerProfiles, relay);
      relay.register(segmentRecords.segments, { serializer: segments.serial });
      relay.register(segmentRecords.memberships, { serializer: segments.membershipSerial });
      const surveyRecords = surveyModels(connection);
      const surveys = new SurveyService(surveyRecords, relay, segments);
      relay.register(surveyRecords.surveys, { serializer: surveys.serial });
      const channelRecords = channelModel(connection);
      const channels = new ChannelService(channelRecords, relay);
      relay.register(channelRecords, { serializer: channels.serial });
      const competitorRecords = competitorModels(connection);
      const competitors = new CompetitorService(competitorRecords.competitors, competitorRecords.opportunities, relay);
      relay.register(competitorRecords.competitors, { serializer: competitors.serial });
      const campaignService = new CampaignService(campaigns, campaignAttributionModel(connection), relay, {
        segmentMembers: (segmentId) => segments.membersOf(segmentId),
        segmentsOfCustomer: (customerId) => segments.segmentIdsOfCustomer(customerId),
        channelExists: (channelId) => channels.exists(channelId),
        surveyResponses: (campaignId) => surveys.responsesForCampaign(campaignId),
      });
      relay.register(campaigns, { serializer: campaignService.serial });
      const referralRecords = referralModels(connection);
      const currency = env.REFERRAL_REWARD_CURRENCY;
      const portalCustomer = async (userId: string) => (await customerProfiles.byPortalUser(userId))?._id ?? null;
      const referrals = new ReferralService(referralRecords, relay, { referrer: { amountMinor: env.REFERRAL_REFERRER_REWARD_MINOR, currency }, referee: { amountMinor: env.REFERRAL_REFEREE_REWARD_MINOR, currency } }, portalCustomer);
      relay.register(referralRecords.referrals, { serializer: referrals.serializer });
      const consentRecords = contactConsentModel(connection);
      const consents = new ConsentService(consentRecords, relay, portalCustomer);
      relay.register(consentRecords, { serializer: consents.serial });
      const channelsOut: MessageChannel[] = [new LogOnlyChannel('SMS'), new LogOnlyChannel('WECHAT'), ...(env.SMTP_URL ? [new EmailChannel(env.SMTP_URL, env.MAIL_FROM)] : [])];
      const messageRecords = messageModel(connection);
      const messages = new MessageService(messageRecords, relay, consents, channelsOut, async (customerId) => (await customerProfiles.get(customerId))?.name || null, env.MARKETING_COMPANY_NAME);
      // customer.erased (SYS-6): the profile consumer erases the person's copies in every module.
      for (const erase of marketingErasers({ messages: messageRecords, responses: surveyRecords.responses, consents: consentRecords }, relay)) customerProfiles.onErase(erase);
      const carePlans = carePlanModel(connection);
      const care = new CareService(carePlans, relay, messages, customerProfiles, segments, holidayCalendar(env.CARE_HOLIDAYS), env.CARE_TIME_ZONE);
      relay.register(carePlans, { serializer: care.serial });
      scheduler = new Scheduler([care.job()], { intervalMs: env.CARE_INTERVAL_MS, logger });
      return {
        services: { campaigns: campaignService, referrals, consents, messages, care, surveys, segments, customerProfiles, channels, competitors },
        resolvers: mergeResolvers(campaignResolvers, surveyResolvers, segmentResolvers, channelResolvers, competitorResolvers, referralResolvers, consentResolvers, messageResolvers, careResolvers, { DateTime: DateTimeScalar, SafeInt: SafeIntScalar }),
        outboxModels: [campaigns, surveyRecords.surveys, surveyRecords.responses, segmentRecords.segments, segmentRecords.memberships, channelRecords, competitorRecords.competitors, referralRecords.referrals, consentRecords, messageRecords, carePlans],
        consumers: [
          createCustomerProfileConsumer({ client: kafka, connection, profiles: customerProfiles, onChanged: (customerIds) => segments.reevaluate(customerIds), logger, personalData: PersonalDataOpener.fromEnv(env, logger) }),
          createCompetitorConsumer({ client: kafka, connection, competitors, logger }),
          createCampaignAttributionConsumer({ client: kafka, connection, campaigns: campaignService, logger }),
          createReferralConsumer({ client: kafka, connection, referrals, logger }),
        ],
      };
    },
  });
  // Care plans run in every replica: each greeting is claimed once per occasion and customer.
  const careScheduler = scheduler!;
  careScheduler.start();
  if (options.handleSignals) for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void careScheduler.stop());
  const stop = running.stop;
  return { ...running, scheduler: careScheduler, stop: async () => (await careScheduler.stop(), await stop()) };
}

