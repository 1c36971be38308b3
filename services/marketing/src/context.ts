import type { RequestContext } from '@crm/subgraph';
import type { CampaignService } from './modules/campaign/campaign.service.js';

export interface MarketingServices {
  campaigns: CampaignService;
}

export type MarketingContext = RequestContext<MarketingServices>;
