import type { RequestContext } from '@crm/subgraph';
import type { CustomerStatsService } from './modules/customer-stats/customer-stats.service.js';
import type { CustomerValueService } from './modules/customer-value/customer-value.service.js';
import type { FunnelService } from './modules/funnel/funnel.service.js';
import type { PatternService } from './modules/patterns/patterns.service.js';
import type { ReadModelService } from './modules/read-model/read-model.service.js';
import type { SalesReportService } from './modules/sales/sales.service.js';
import type { ServiceReportService } from './modules/service-report/service-report.service.js';

export interface AnalyticsServices {
  customerStats: CustomerStatsService;
  sales: SalesReportService;
  customerValues: CustomerValueService;
  serviceReports: ServiceReportService;
  funnel: FunnelService;
  readModels: ReadModelService;
  patterns: PatternService;
}

export type AnalyticsContext = RequestContext<AnalyticsServices>;
