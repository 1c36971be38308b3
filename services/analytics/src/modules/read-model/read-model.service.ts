import { requireRole, Role, type AuthUser } from '@crm/auth';
import type { ReadModelConsumers } from './read-model.consumers.js';

/** Every collection derived from events: emptied by a rebuild, refilled by the replay. */
export const READ_MODEL_COLLECTIONS = ['order_facts', 'sales_days', 'sales_periods', 'customer_facts', 'customer_values', 'customer_months', 'customer_churn', 'rfm_models', 'ticket_facts', 'lead_facts', 'opportunity_facts', 'pattern_snapshots', 'customer_clusters'];

/** Rebuilding the read models (the replay command): admins only. */
export class ReadModelService {
  constructor(private readonly consumers: ReadModelConsumers) {}

  async rebuild(user: AuthUser) {
    requireRole(user, [Role.ADMIN]);
    const { groups, dropped } = await this.consumers.rebuild(READ_MODEL_COLLECTIONS);
    return { groups, collections: dropped };
  }
}
