import type { RequestContext } from '@crm/subgraph';
import type { CampaignService } from './modules/campaign/campaign.service.js';
import type { SurveyService } from './modules/survey/survey.service.js';
import type { CustomerProfiles } from './modules/customer-profile/customer-profile.service.js';
import type { SegmentService } from './modules/segment/segment.service.js';
import type { ChannelService } from './modules/channel/channel.service.js';
import type { CompetitorService } from './modules/competitor/competitor.service.js';
import type { ReferralService } from './modules/referral/referral.service.js';
import type { ConsentService } from './modules/consent/consent.service.js';
import type { MessageService } from './modules/message/message.service.js';
import type { CareService } from './modules/care/care.service.js';

export interface MarketingServices {
  campaigns: CampaignService;
  surveys: SurveyService;
  segments: SegmentService;
  customerProfiles: CustomerProfiles;
  channels: ChannelService;
  competitors: CompetitorService;
  referrals: ReferralService;
  consents: ConsentService;
  messages: MessageService;
  care: CareService;
}

export type MarketingContext = RequestContext<MarketingServices>;
