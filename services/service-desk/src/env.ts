import { serviceEnvSchema, z } from '@crm/env';

const TICKET_TYPES = ['CONSULTATION', 'COMPLAINT', 'AFTER_SALES', 'TECHNICAL', 'SUGGESTION'] as const;

export const serviceDeskEnvSchema = serviceEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4003),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('crm_service_desk'),
  // Tickets (SVC-1).
  /** Ticket types that need a service manager's approval before dispatch, comma-separated (empty: none). */
  TICKET_APPROVAL_TYPES: z
    .string()
    .default('COMPLAINT')
    .transform((value) => value.split(',').map((t) => t.trim().toUpperCase()).filter(Boolean))
    .pipe(z.array(z.enum(TICKET_TYPES))),
  /** Days after resolution in which a RESOLVED or CLOSED ticket can be reopened. */
  TICKET_REOPEN_WINDOW_DAYS: z.coerce.number().int().min(0).max(365).default(14),
  // SLA (SVC-2).
  /** How often the SLA scheduler looks for breaches to escalate, ms; 0 turns the timer off. */
  SLA_ESCALATION_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  /** Breaches escalated per pass at most. */
  SLA_ESCALATION_BATCH: z.coerce.number().int().min(1).max(10_000).default(200),
  /** How long a replica reuses the SLA policy it read, ms (another replica's change is seen within it). */
  SLA_POLICY_CACHE_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
  // Online service (SVC-5).
  /** Knowledge-base articles offered per question at most. */
  CONVERSATION_ANSWERS: z.coerce.number().int().min(1).max(10).default(3),
  /** Lowest match score (0 to 1) of an article offered as an automatic answer. */
  CONVERSATION_MIN_SCORE: z.coerce.number().min(0).max(1).default(0.3),
  // After-sales (SVC-6).
  /** Days after delivery in which a return may be requested. */
  AFTER_SALES_RETURN_WINDOW_DAYS: z.coerce.number().int().min(0).max(3650).default(7),
});
export type ServiceDeskEnv = z.infer<typeof serviceDeskEnvSchema>;
