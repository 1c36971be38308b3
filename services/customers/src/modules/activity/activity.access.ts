import { Role, type AuthUser } from '@crm/auth';
import { canWrite } from '../customer/customer.access.js';
import { SERVICE_AGENT_ACTIVITY_TYPES, type ActivityType } from './activity.model.js';

const STAFF = [Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.SERVICE_AGENT, Role.MARKETER, Role.ANALYST] as const;

/**
 * Who reads activities and timelines: staff, for the customers they can read (CUS-7). The `customer`
 * role reads its own record but not what staff wrote about it.
 */
export function canReadActivities(user: AuthUser): boolean {
  return STAFF.some((role) => user.roles.includes(role));
}

/**
 * Who logs activities at all. Writers of customers (admin, sales manager, sales rep) log any type on
 * the customers they may change; service agents log calls, emails and notes on any customer they can
 * read (they talk to customers without owning them). Marketers, analysts and customers log nothing.
 */
export function canLogActivities(user: AuthUser): boolean {
  return canWrite(user) || user.roles.includes(Role.SERVICE_AGENT);
}

/** Types a service agent may log on a customer it cannot change. */
export function serviceAgentMayLog(user: AuthUser, type: ActivityType): boolean {
  return user.roles.includes(Role.SERVICE_AGENT) && SERVICE_AGENT_ACTIVITY_TYPES.includes(type);
}
