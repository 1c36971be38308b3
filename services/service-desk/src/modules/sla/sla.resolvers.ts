import { connectionOf, selectsField } from '@crm/subgraph';
import type { Resolvers, SlaEscalation, SlaPolicy as SlaPolicyView } from '../../__generated__/resolvers-types.js';
import { WEEKDAYS } from './sla.calendar.js';
import type { SlaEscalationRecord } from './sla.model.js';
import type { SlaPolicy } from './sla.policy.js';

/** The policy in its GraphQL shape (weekly hours as a list in weekday order). */
export function policyView(policy: SlaPolicy): SlaPolicyView {
  const { calendar } = policy;
  return {
    version: policy.version,
    targets: policy.targets.map((t) => ({ ...t })),
    atRiskRatio: policy.atRiskRatio,
    calendar: {
      timeZone: calendar.timeZone,
      weeklyHours: WEEKDAYS.filter((d) => (calendar.weeklyHours[d]?.length ?? 0) > 0).map((weekday) => ({ weekday, intervals: calendar.weeklyHours[weekday]! })),
      holidays: calendar.holidays,
      extraWorkingDays: calendar.extraWorkingDays,
      extraWorkingDayHours: calendar.extraWorkingDayHours ?? calendar.weeklyHours.MON ?? [],
    },
    updatedAt: policy.updatedAt,
    updatedBy: policy.updatedBy,
  };
}

export function escalationView(record: SlaEscalationRecord): SlaEscalation {
  return {
    id: record._id.toHexString(),
    ticketId: record.ticketId,
    kind: record.kind,
    dueAt: record.dueAt,
    breachedAt: record.breachedAt,
    action: record.action,
    acknowledged: record.acknowledgedAt !== null,
    acknowledgedAt: record.acknowledgedAt,
    acknowledgedBy: record.acknowledgedBy,
  };
}

export const slaResolvers: Resolvers = {
  Query: {
    slaPolicy: async (_parent, { version }, { services, user }) => policyView(await services.sla.policy(user, version)),
    slaEscalations: async (_parent, { first, after, acknowledged }, { services, user }, info) => {
      const page = await services.sla.listEscalations({ first, after, acknowledged, count: selectsField(info, ['totalCount']) }, user);
      return connectionOf({ ...page, items: page.items.map(escalationView) });
    },
  },
  Mutation: {
    updateSlaPolicy: async (_parent, { input, expectedVersion }, { services, user }) => policyView(await services.sla.updatePolicy(input, user, expectedVersion)),
    acknowledgeSlaEscalation: async (_parent, { id }, { services, user }) => escalationView(await services.sla.acknowledge(id, user)),
  },
  Ticket: {
    // Derived at query time from the stored clock and the current calendar (never stored flags).
    sla: (ticket, _args, { services }) => services.sla.ticketSla(ticket),
  },
};
