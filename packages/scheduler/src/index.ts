export { OnceClaims, type OnceClaimsOptions } from './claims.js';
export { Scheduler, type ScheduledJob, type SchedulerOptions } from './scheduler.js';
