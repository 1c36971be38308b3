import type { RequestContext } from '@crm/subgraph';
import type { CustomerStatsService } from './modules/customer-stats/customer-stats.service.js';

export interface AnalyticsServices {
  customerStats: CustomerStatsService;
}

export type AnalyticsContext = RequestContext<AnalyticsServices>;
