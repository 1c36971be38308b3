import { requireRole, Role, type AuthUser } from '@crm/auth';
import type { CustomerFactModel, CustomerFactRecord } from './customer-stats.model.js';

const READERS = [Role.ANALYST, Role.SALES_MANAGER, Role.SALES_REP, Role.MARKETER, Role.SERVICE_AGENT] as const;

export interface CustomerStats {
  totalCustomers: number;
  lastCustomerCreatedAt: Date | null;
}

/** The one facade resolvers call for customer statistics. */
export class CustomerStatsService {
  constructor(private readonly facts: CustomerFactModel) {}

  async stats(user: AuthUser): Promise<CustomerStats> {
    requireRole(user, READERS);
    const [totalCustomers, newest] = await Promise.all([
      this.facts.countDocuments().exec(),
      this.facts.findOne().sort({ customerCreatedAt: -1 }).lean<CustomerFactRecord>().exec(),
    ]);
    return { totalCustomers, lastCustomerCreatedAt: newest?.customerCreatedAt ?? null };
  }
}
