import type { OnceClaims, ScheduledJob } from '@crm/scheduler';
import type { PatternService } from './patterns.service.js';

/** Products bought together and customer clusters, once per interval across replicas (a claim per slot). */
export function patternsJob(patterns: PatternService, claims: OnceClaims, intervalMs: number): ScheduledJob {
  return {
    name: 'patterns',
    run: async (now) => {
      const key = `analytics:patterns:${Math.floor(now.getTime() / Math.max(intervalMs, 1))}`;
      if (!(await claims.claim(key))) return 0;
      try {
        const pairs = await patterns.computeProductPairs(now);
        const clusters = await patterns.computeClusters(now);
        await claims.complete(key);
        return pairs.pairs.length + clusters.clusters.length;
      } catch (error) {
        await claims.release(key);
        throw error;
      }
    },
  };
}
