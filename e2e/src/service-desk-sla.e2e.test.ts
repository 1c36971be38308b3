import { describe, expect, it } from 'vitest';
import { eventually } from '@crm/testing';
import { e2ePlatform, gatewayCalls, loginAll, userIdOf } from './platform.js';

// This file's platform checks for breaches every 2 s and reads the policy fresh (defaults: 30 s, 5 s
// cache); the processes inherit this environment (each e2e file runs in its own worker process).
process.env.SLA_ESCALATION_INTERVAL_MS = '2000';
process.env.SLA_POLICY_CACHE_MS = '0';
const { infra, platform, logDir } = await e2ePlatform('service-desk-sla');

const { raw, asUser } = gatewayCalls(platform);

const ALL_DAY = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'].map((weekday) => ({ weekday, intervals: [{ start: '00:00', end: '24:00' }] }));
const TARGETS = [
  { priority: 'LOW', firstResponseMinutes: 480, resolutionMinutes: 4800, escalation: 'NOTIFY_MANAGER' },
  { priority: 'NORMAL', firstResponseMinutes: 240, resolutionMinutes: 2400, escalation: 'NOTIFY_MANAGER' },
  { priority: 'HIGH', firstResponseMinutes: 60, resolutionMinutes: 480, escalation: 'NOTIFY_MANAGER' },
  // One business minute to the first response, and a breach hands the ticket to the queue's other agent.
  { priority: 'URGENT', firstResponseMinutes: 1, resolutionMinutes: 30, escalation: 'REASSIGN' },
];

describe(`service desk SLA through the gateway (logs: ${logDir})`, () => {
  it('a breached first response is escalated once by the scheduler: reassigned within the queue, listed for the manager, flagged on the ticket', async () => {
    const names = ['sales.rep', 'service.manager', 'service.agent', 'service.agent2', 'analyst'] as const;
    const tokens = await loginAll(infra, names);
    const [rep, manager] = [asUser(tokens['sales.rep']), asUser(tokens['service.manager'])];
    const agentIds = [userIdOf(tokens['service.agent']), userIdOf(tokens['service.agent2'])];

    // Only service managers and admins change the policy; a bad one is refused with field details.
    const denied = await raw(tokens.analyst)(`mutation($input: SlaPolicyInput!) { updateSlaPolicy(input: $input) { version } }`, { input: { targets: TARGETS } });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const invalid = await raw(tokens['service.manager'])(`mutation($input: SlaPolicyInput!) { updateSlaPolicy(input: $input) { version } }`, {
      input: { calendar: { timeZone: 'Mars/Olympus', weeklyHours: ALL_DAY } },
    });
    expect(invalid.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const { updateSlaPolicy: policy } = await manager(`mutation($input: SlaPolicyInput!) { updateSlaPolicy(input: $input) { version targets { priority firstResponseMinutes escalation } } }`, {
      input: { targets: TARGETS, calendar: { timeZone: 'UTC', weeklyHours: ALL_DAY } },
    });
    expect(policy.targets).toContainEqual({ priority: 'URGENT', firstResponseMinutes: 1, escalation: 'REASSIGN' });

    const { createCustomer: customer } = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, { input: { name: 'Xiamen Harbour Logistics' } });
    await manager(`mutation($input: CreateQueueInput!) { createQueue(input: $input) { id } }`, {
      input: { name: 'Harbour IT', skillGroup: 'technical', members: agentIds, ticketTypes: ['TECHNICAL'] },
    });
    const SLA = 'sla { policyVersion firstResponse { state targetMinutes dueAt } resolution { state targetMinutes } }';
    const { createTicket: opened } = await manager(`mutation($input: CreateTicketInput!) { createTicket(input: $input) { id status assigneeId ${SLA} } }`, {
      input: { customerId: customer.id, subject: 'Crane control terminal offline', type: 'TECHNICAL', priority: 'URGENT', channel: 'PHONE' },
    });
    expect(opened).toMatchObject({ status: 'ASSIGNED', sla: { policyVersion: policy.version, firstResponse: { state: 'ON_TRACK', targetMinutes: 1 }, resolution: { state: 'ON_TRACK', targetMinutes: 30 } } });
    expect(agentIds).toContain(opened.assigneeId);

    // A minute later the scheduler finds the breach and escalates it: the other agent has the ticket.
    const escalated = await eventually(async () => {
      const data = await manager(`query($id: ID!) { ticket(id: $id) { assigneeId ${SLA} history { by field to note } } }`, { id: opened.id });
      return data.ticket.assigneeId !== opened.assigneeId ? data.ticket : undefined;
    }, 150_000, 1000);
    expect(escalated.assigneeId).toBe(agentIds.find((id) => id !== opened.assigneeId));
    expect(escalated.sla.firstResponse.state).toBe('BREACHED');
    expect(escalated.history.filter((h: { field: string }) => h.field === 'sla')).toEqual([{ by: 'system', field: 'sla', to: 'FIRST_RESPONSE', note: 'Breached; escalation: REASSIGN' }]);

    const LIST = `query { slaEscalations(first: 50, acknowledged: false) { totalCount edges { node { id ticketId kind action acknowledged } } } }`;
    const listed = (await manager(LIST)).slaEscalations.edges.map((e: { node: Record<string, unknown> }) => e.node).filter((n: { ticketId: string }) => n.ticketId === opened.id);
    expect(listed).toEqual([{ id: expect.any(String), ticketId: opened.id, kind: 'FIRST_RESPONSE', action: 'REASSIGN', acknowledged: false }]);
    // Agents do not read the managers' list; the manager acknowledges it once.
    expect((await raw(tokens['service.agent'])(LIST)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const { acknowledgeSlaEscalation: seen } = await manager(`mutation($id: ID!) { acknowledgeSlaEscalation(id: $id) { acknowledged acknowledgedBy } }`, { id: listed[0].id });
    expect(seen).toEqual({ acknowledged: true, acknowledgedBy: userIdOf(tokens['service.manager']) });

    // Further passes of the scheduler escalate this breach no more.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const after = (await manager(`query($id: ID!) { ticket(id: $id) { assigneeId history { field } } }`, { id: opened.id })).ticket;
    expect(after.assigneeId).toBe(escalated.assigneeId);
    expect(after.history.filter((h: { field: string }) => h.field === 'sla')).toHaveLength(1);
  }, 240_000);
});
