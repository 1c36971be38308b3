import type { RequestContext } from '@crm/subgraph';
import type { ActivityService } from './modules/activity/activity.service.js';
import type { TimelineService } from './modules/activity/timeline.service.js';
import type { CustomerGroupService } from './modules/customer-group/customer-group.service.js';
import type { CustomerService } from './modules/customer/customer.service.js';
import type { CustomerImportService } from './modules/customer-import/customer-import.service.js';
import type { FeedbackService } from './modules/feedback/feedback.service.js';
import type { OrganizationService } from './modules/organization/organization.service.js';

export interface CustomersServices {
  customers: CustomerService;
  organizations: OrganizationService;
  groups: CustomerGroupService;
  feedback: FeedbackService;
  customerImports: CustomerImportService;
  activities: ActivityService;
  timeline: TimelineService;
}

export type CustomersContext = RequestContext<CustomersServices>;
