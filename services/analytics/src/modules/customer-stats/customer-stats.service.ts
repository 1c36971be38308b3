import { requireRole, Role, type AuthUser } from '@crm/auth';
import type { CustomerFactRecord, CustomerValueModels } from '../customer-value/customer-value.model.js';

const READERS = [Role.ANALYST, Role.SALES_MANAGER, Role.SALES_REP, Role.MARKETER, Role.SERVICE_AGENT] as const;

export interface CustomerStats {
  totalCustomers: number;
  lastCustomerCreatedAt: Date | null;
}

/** The one facade resolvers call for customer statistics (over the customer facts of the value module). */
export class CustomerStatsService {
  constructor(private readonly facts: CustomerValueModels['customerFacts']) {}

  async stats(user: AuthUser): Promise<CustomerStats> {
    requireRole(user, READERS);
    const live = { deleted: { $ne: true } };
    const [totalCustomers, newest] = await Promise.all([
      this.facts.countDocuments(live).exec(),
      this.facts.findOne(live).sort({ customerCreatedAt: -1 }).lean<CustomerFactRecord>().exec(),
    ]);
    return { totalCustomers, lastCustomerCreatedAt: newest?.customerCreatedAt ?? null };
  }
}
