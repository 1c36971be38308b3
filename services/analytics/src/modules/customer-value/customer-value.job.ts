import type { OnceClaims, ScheduledJob } from '@crm/scheduler';
import type { CustomerValueService } from './customer-value.service.js';

/**
 * RFM boundaries and churn risks, once per interval across replicas (a claim per interval slot), so
 * two replicas neither duplicate the work nor publish `analytics.churn-risk-raised` twice.
 */
export function customerValueJob(values: CustomerValueService, claims: OnceClaims, intervalMs: number): ScheduledJob {
  return {
    name: 'customer-value',
    run: async (now) => {
      const slot = Math.floor(now.getTime() / Math.max(intervalMs, 1));
      const key = `analytics:customer-value:${slot}`;
      if (!(await claims.claim(key))) return 0;
      try {
        await values.computeRfmModel(now);
        const changed = await values.computeChurn(now);
        await claims.complete(key);
        return changed;
      } catch (error) {
        await claims.release(key);
        throw error;
      }
    },
  };
}
