import type { RequestContext } from '@crm/subgraph';
import type { CampaignService } from './modules/campaign/campaign.service.js';
import type { SurveyService } from './modules/survey/survey.service.js';

export interface MarketingServices {
  campaigns: CampaignService;
  surveys: SurveyService;
}

export type MarketingContext = RequestContext<MarketingServices>;
