import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra } from '@crm/testing';
import { startServiceDesk } from '../../../app.js';
import { serviceDeskEnvSchema } from '../../../env.js';
import { addBusinessMinutes } from '../sla.calendar.js';
import { startClock } from '../sla.clock.js';
import { DEFAULT_SLA_POLICY } from '../sla.policy.js';

const infra = await testInfra();
// The timer is off: the tests run the scheduler's passes themselves (running.scheduler.tick).
const rawEnv: Record<string, string> = { ...subgraphTestEnv(infra, 'service-desk'), SLA_ESCALATION_INTERVAL_MS: '0', SLA_POLICY_CACHE_MS: '0' };
const running = await startServiceDesk(parseEnv(serviceDeskEnvSchema, rawEnv));
const [agent, manager, customer, admin] = (await Promise.all(['service.agent', 'service.manager', 'customer', 'admin'].map((u) => login(infra, u)))) as [string, string, string, string];
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = agent) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));

afterAll(async () => {
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const POLICY_FIELDS = `version atRiskRatio updatedBy updatedAt
  targets { priority firstResponseMinutes resolutionMinutes escalation }
  calendar { timeZone weeklyHours { weekday intervals { start end } } holidays extraWorkingDays extraWorkingDayHours { start end } }`;
const POLICY = `query($v: Int) { slaPolicy(version: $v) { ${POLICY_FIELDS} } }`;
const UPDATE = `mutation($input: SlaPolicyInput!, $v: Int) { updateSlaPolicy(input: $input, expectedVersion: $v) { ${POLICY_FIELDS} } }`;
const TARGET = 'kind targetMinutes dueAt state remainingMinutes metAt';
const SLA = `sla { policyVersion startedAt paused pausedAt pausedMinutes escalation atRisk breached tracked firstResponse { ${TARGET} } resolution { ${TARGET} } }`;
const CREATE = `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id createdAt ${SLA} } }`;
const TICKET = `query($id: ID!) { ticket(id: $id) { id ${SLA} } }`;
const ESCALATIONS = `query($a: Boolean, $first: Int, $after: String) { slaEscalations(acknowledged: $a, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id ticketId kind dueAt breachedAt action acknowledged acknowledgedAt acknowledgedBy } } } }`;
const ACK = `mutation($id: ID!) { acknowledgeSlaEscalation(id: $id) { id acknowledged acknowledgedAt acknowledgedBy } }`;
const customerId = '6740a1b2c3d4e5f601234567';
const OFFICE = [{ start: '09:00', end: '12:00' }, { start: '13:00', end: '18:00' }];
const WEEKDAY_HOURS = ['MON', 'TUE', 'WED', 'THU', 'FRI'].map((weekday) => ({ weekday, intervals: OFFICE }));

const tickets = () => running.deps.connection.collection('tickets');
/**
 * Moves a ticket's clock back with a raw write, once the relay has published the opening's events:
 * FerretDB rewrites the whole document on update, so the relay's concurrent pendingEvents removal
 * could otherwise put the old clock back.
 */
async function backdateClock(ticketId: string, clock: unknown) {
  const _id = new Types.ObjectId(ticketId);
  await eventually(async () => ((await tickets().findOne({ _id }))!.pendingEvents?.length ?? 0) === 0, 30_000, 100);
  await tickets().updateOne({ _id }, { $set: { sla: clock } });
}

async function openTicket(priority: string) {
  const result = await call(CREATE, { input: { customerId, subject: `SLA ${priority}`, type: 'TECHNICAL', channel: 'WEB', priority } });
  expect(result.errors).toBeUndefined();
  return result.data!.createTicket;
}

describe('SLA policy (real Mongo, Keycloak)', () => {
  it('staff read the built-in default policy (version 1); customers cannot', async () => {
    const result = await call(POLICY);
    expect(result.errors).toBeUndefined();
    expect(result.data!.slaPolicy).toMatchObject({
      version: 1,
      atRiskRatio: 0.8,
      updatedBy: null,
      calendar: { timeZone: 'Asia/Shanghai', weeklyHours: WEEKDAY_HOURS, holidays: [], extraWorkingDays: [], extraWorkingDayHours: OFFICE },
    });
    expect(result.data!.slaPolicy.targets).toEqual([
      { priority: 'LOW', firstResponseMinutes: 480, resolutionMinutes: 2400, escalation: 'NOTIFY_MANAGER' },
      { priority: 'NORMAL', firstResponseMinutes: 240, resolutionMinutes: 1440, escalation: 'NOTIFY_MANAGER' },
      { priority: 'HIGH', firstResponseMinutes: 60, resolutionMinutes: 480, escalation: 'REASSIGN' },
      { priority: 'URGENT', firstResponseMinutes: 30, resolutionMinutes: 240, escalation: 'REASSIGN' },
    ]);
    const denied = await call(POLICY, {}, customer);
    expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'SLA_FORBIDDEN' });
  });

  it('only service managers and admins change it; bad input is BAD_USER_INPUT with every field named, nothing saved', async () => {
    const byAgent = await call(UPDATE, { input: { atRiskRatio: 0.5 } });
    expect(byAgent.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const bad = await call(
      UPDATE,
      {
        input: {
          targets: [
            { priority: 'URGENT', firstResponseMinutes: 0, resolutionMinutes: 240, escalation: 'REASSIGN' },
            { priority: 'HIGH', firstResponseMinutes: 120, resolutionMinutes: 60, escalation: 'REASSIGN' },
          ],
          atRiskRatio: 1.5,
        },
      },
      manager,
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'SLA_INVALID_INPUT' });
    expect((bad.errors![0]!.extensions!.fields as Array<{ field: string }>).map((f) => f.field).sort()).toEqual(
      ['input.atRiskRatio', 'input.targets.0.firstResponseMinutes', 'input.targets.1.resolutionMinutes'].sort(),
    );
    const badCalendar = await call(
      UPDATE,
      {
        input: {
          calendar: {
            timeZone: 'Asia/Atlantis',
            weeklyHours: [{ weekday: 'MON', intervals: [{ start: '18:00', end: '09:00' }] }, { weekday: 'TUE', intervals: OFFICE }, { weekday: 'MON', intervals: [] }],
            holidays: ['2026-02-30'],
          },
        },
      },
      manager,
    );
    expect(badCalendar.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect((badCalendar.errors![0]!.extensions!.fields as Array<{ field: string }>).map((f) => f.field).sort()).toEqual(
      ['input.calendar.timeZone', 'input.calendar.weeklyHours.0.intervals.0.end', 'input.calendar.weeklyHours.2.weekday', 'input.calendar.holidays.0'].sort(),
    );
    expect((await call(POLICY)).data!.slaPolicy.version).toBe(1);
  });

  it('a change is a new version (earlier ones stay readable); a stale expectedVersion is CONFLICT', async () => {
    const changed = await call(
      UPDATE,
      {
        v: 1,
        input: {
          targets: [{ priority: 'URGENT', firstResponseMinutes: 15, resolutionMinutes: 120, escalation: 'NOTIFY_MANAGER' }],
          calendar: { weeklyHours: [...WEEKDAY_HOURS, { weekday: 'SAT', intervals: [{ start: '10:00', end: '14:00' }] }], holidays: ['2027-01-01'], extraWorkingDays: ['2027-01-03'] },
        },
      },
      manager,
    );
    expect(changed.errors).toBeUndefined();
    const policy = changed.data!.updateSlaPolicy;
    expect(policy).toMatchObject({ version: 2, atRiskRatio: 0.8, calendar: { timeZone: 'Asia/Shanghai', holidays: ['2027-01-01'], extraWorkingDays: ['2027-01-03'] } });
    expect(policy.updatedBy).toMatch(/\S/);
    expect(policy.calendar.weeklyHours.map((d: { weekday: string }) => d.weekday)).toEqual(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']);
    expect(policy.targets.find((t: { priority: string }) => t.priority === 'URGENT')).toEqual({ priority: 'URGENT', firstResponseMinutes: 15, resolutionMinutes: 120, escalation: 'NOTIFY_MANAGER' });
    expect(policy.targets.find((t: { priority: string }) => t.priority === 'HIGH')).toMatchObject({ firstResponseMinutes: 60 }); // untouched
    const stale = await call(UPDATE, { v: 1, input: { atRiskRatio: 0.5 } }, admin);
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'SLA_VERSION_CONFLICT' });
    expect((await call(POLICY)).data!.slaPolicy).toMatchObject({ version: 2, atRiskRatio: 0.8 });
    expect((await call(POLICY, { v: 1 })).data!.slaPolicy.targets[3]).toMatchObject({ priority: 'URGENT', firstResponseMinutes: 30 });
    expect((await call(POLICY, { v: 9 })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('Ticket.sla (query time)', () => {
  it('a new ticket gets the targets of the policy in force, due dates in business time', async () => {
    const { policy } = await running.services.sla.current();
    const ticket = await openTicket('URGENT');
    const createdAt = new Date(ticket.createdAt);
    expect(ticket.sla).toMatchObject({ policyVersion: policy.version, paused: false, pausedMinutes: 0, escalation: 'NOTIFY_MANAGER', breached: false, tracked: true });
    expect(ticket.sla.firstResponse).toMatchObject({ kind: 'FIRST_RESPONSE', targetMinutes: 15, metAt: null });
    expect(['ON_TRACK', 'AT_RISK']).toContain(ticket.sla.firstResponse.state);
    expect(new Date(ticket.sla.firstResponse.dueAt)).toEqual(addBusinessMinutes(new Date(ticket.sla.startedAt), 15, policy.calendar));
    expect(new Date(ticket.sla.resolution.dueAt)).toEqual(addBusinessMinutes(new Date(ticket.sla.startedAt), 120, policy.calendar));
    expect(Math.abs(new Date(ticket.sla.startedAt).getTime() - createdAt.getTime())).toBeLessThan(5000);
  });

  it('flags are derived when read: a stored clock whose due dates have passed reads BREACHED, nothing else stored', async () => {
    const ticket = await openTicket('HIGH');
    const longAgo = startClock(DEFAULT_SLA_POLICY, 'HIGH', new Date(Date.now() - 30 * 86_400_000));
    await backdateClock(ticket.id, longAgo);
    const read = (await call(TICKET, { id: ticket.id })).data!.ticket.sla;
    expect(read).toMatchObject({ breached: true, policyVersion: 1, firstResponse: { state: 'BREACHED', targetMinutes: 60 }, resolution: { state: 'BREACHED' } });
    expect(read.firstResponse.remainingMinutes).toBeLessThan(-60 * 8 * 15); // three weeks of working days late at least
    const stored = await tickets().findOne({ _id: new Types.ObjectId(ticket.id) });
    expect(JSON.stringify(stored)).not.toMatch(/BREACHED|AT_RISK/);
  });
});

describe('SLA escalation through the ticket module', () => {
  it('escalates a breach once, lists it for the manager, who acknowledges it', async () => {
    const ticket = await openTicket('NORMAL');
    // The clock of a NORMAL ticket opened two weeks ago (NOTIFY_MANAGER), not answered.
    const clock = startClock(DEFAULT_SLA_POLICY, 'NORMAL', new Date(Date.now() - 14 * 86_400_000));
    await backdateClock(ticket.id, clock);
    const first = await running.scheduler.tick();
    expect(first['sla-escalation']).toBeGreaterThanOrEqual(2);
    const again = await running.scheduler.tick();
    expect(again['sla-escalation']).toBe(0);

    const list = await call(ESCALATIONS, { a: false, first: 50 }, manager);
    expect(list.errors).toBeUndefined();
    const mine = list.data!.slaEscalations.edges.map((e: { node: Record<string, unknown> }) => e.node).filter((n: { ticketId: string }) => n.ticketId === ticket.id);
    expect(mine.map((n: { kind: string }) => n.kind).sort()).toEqual(['FIRST_RESPONSE', 'RESOLUTION']);
    const fr = mine.find((n: { kind: string }) => n.kind === 'FIRST_RESPONSE');
    expect(fr).toMatchObject({ action: 'NOTIFY_MANAGER', acknowledged: false, acknowledgedAt: null, dueAt: clock.firstResponseDueAt.toISOString() });

    expect((await call(ESCALATIONS, {}, agent)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect((await call(ACK, { id: fr.id }, agent)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const acked = await call(ACK, { id: fr.id }, manager);
    expect(acked.data!.acknowledgeSlaEscalation).toMatchObject({ id: fr.id, acknowledged: true });
    const ackedAgain = await call(ACK, { id: fr.id }, admin);
    expect(ackedAgain.data!.acknowledgeSlaEscalation.acknowledgedAt).toBe(acked.data!.acknowledgeSlaEscalation.acknowledgedAt);
    expect((await call(ACK, { id: new Types.ObjectId().toHexString() }, manager)).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });

    const open = (await call(ESCALATIONS, { a: false, first: 50 }, manager)).data!.slaEscalations.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(open).not.toContain(fr.id);
    const done = (await call(ESCALATIONS, { a: true, first: 50 }, manager)).data!.slaEscalations;
    expect(done.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(fr.id);

    // Paging: one per page, newest breach first, the cursor continues.
    const page1 = (await call(ESCALATIONS, { first: 1 }, manager)).data!.slaEscalations;
    expect(page1.edges).toHaveLength(1);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await call(ESCALATIONS, { first: 1, after: page1.pageInfo.endCursor }, manager)).data!.slaEscalations;
    expect(page2.edges[0].node.id).not.toBe(page1.edges[0].node.id);
    expect(new Date(page2.edges[0].node.breachedAt).getTime()).toBeLessThanOrEqual(new Date(page1.edges[0].node.breachedAt).getTime());
  });
});
