import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mongoose';
import { createLogger } from '@crm/logger';
import { connectMongo } from '@crm/mongo';
import { OnceClaims, Scheduler } from '@crm/scheduler';
import { eventually, testInfra, uniqueName } from '@crm/testing';
import { breachedTargets, markFirstResponse, markResolved, reopenClock, startClock, type SlaClock, type SlaTargetKind } from '../sla.clock.js';
import { breachKey, SlaEscalator, type SlaDueBreach, type SlaTicketPort } from '../sla.escalation.js';
import { slaModels } from '../sla.model.js';
import { DEFAULT_SLA_POLICY } from '../sla.policy.js';
import { SlaService } from '../sla.service.js';

/**
 * Two "replicas" (own connections, own claims, own services) against one real database. The ticket
 * side is a small real port over a collection: tickets with a stored clock; every escalate call is
 * inserted into `port_calls`, so a duplicate escalation would show as a second row.
 */
const infra = await testInfra();
const dbName = uniqueName('test_sla_escalation');
const connections: Connection[] = [];
const connect = async () => {
  const connection = await connectMongo({ url: infra.mongoUrl, dbName });
  connections.push(connection);
  return connection;
};
const admin = await connect();
afterAll(async () => {
  await admin.dropDatabase();
  await Promise.all(connections.map((c) => c.close()));
});

const logger = createLogger({ service: 'sla-test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });

interface PortTicket {
  _id: string;
  clock: SlaClock;
  escalated: string[];
}

class CollectionTicketPort implements SlaTicketPort {
  failuresToInject = 0;
  constructor(private readonly connection: Connection) {}
  private get tickets() {
    return this.connection.collection<PortTicket>('port_tickets');
  }
  async dueForEscalation(now: Date, limit: number): Promise<SlaDueBreach[]> {
    const due: SlaDueBreach[] = [];
    for (const ticket of await this.tickets.find({}).toArray()) {
      for (const breach of breachedTargets(ticket.clock, now)) {
        if (!ticket.escalated.includes(breachKey({ ticketId: ticket._id, ...breach }))) due.push({ ticketId: ticket._id, ...breach, priority: ticket.clock.priority });
      }
    }
    return due.slice(0, limit);
  }
  async escalate(breach: { ticketId: string; kind: SlaTargetKind; dueAt: Date; action: 'REASSIGN' | 'NOTIFY_MANAGER'; at: Date }): Promise<void> {
    if (this.failuresToInject > 0) {
      this.failuresToInject -= 1;
      throw new Error('ticket store briefly away');
    }
    await this.connection.collection('port_calls').insertOne({ ...breach });
    await this.tickets.updateOne({ _id: breach.ticketId }, { $push: { escalated: breachKey(breach) } });
  }
}

async function replica() {
  const connection = await connect();
  const { policies, escalations } = slaModels(connection);
  const sla = new SlaService(policies, escalations, { cacheMs: 0 });
  const port = new CollectionTicketPort(connection);
  const escalator = new SlaEscalator(port, sla, new OnceClaims(connection), { batchSize: 100, logger });
  return { connection, sla, port, escalator, scheduler: new Scheduler([escalator.job()], { intervalMs: 50, logger }) };
}

const sh = (local: string) => new Date(`${local}+08:00`); // 2026-11-23 is a Monday
const calls = (ticketId: string) => admin.collection('port_calls').find({ ticketId }).toArray();
// In due order: a server need not return documents in insertion order (FerretDB did not, once).
const records = (ticketId: string) => admin.collection('sla_escalations').find({ ticketId }).sort({ dueAt: 1 }).toArray();

async function addTicket(priority: string, openedAt: Date, change: (clock: SlaClock) => SlaClock = (c) => c): Promise<string> {
  const id = uniqueName('ticket');
  await admin.collection<PortTicket>('port_tickets').insertOne({ _id: id, clock: change(startClock(DEFAULT_SLA_POLICY, priority, openedAt)), escalated: [] });
  return id;
}

describe('SLA escalation job (real Mongo, two replicas)', () => {
  it('escalates each breach exactly once with two replicas racing, and records it for the manager', async () => {
    const [a, b] = await Promise.all([replica(), replica()]);
    // URGENT opened Monday 09:00: first response due 09:30, resolution due 14:00.
    const both = await addTicket('URGENT', sh('2026-11-23T09:00'));
    const answered = await addTicket('URGENT', sh('2026-11-23T09:00'), (c) => markFirstResponse(c, sh('2026-11-23T09:10')));
    const low = await addTicket('LOW', sh('2026-11-23T09:00')); // first response due Monday 18:00
    const now = sh('2026-11-23T15:00');
    const runs = await Promise.all([a.escalator.run(now), b.escalator.run(now), a.escalator.run(now), b.escalator.run(now)]);
    expect(runs.reduce((sum, n) => sum + n, 0)).toBe(3); // both targets of `both`, resolution of `answered`
    expect((await calls(both)).map((c) => c.kind).sort()).toEqual(['FIRST_RESPONSE', 'RESOLUTION']);
    expect((await calls(answered)).map((c) => c.kind)).toEqual(['RESOLUTION']);
    expect(await calls(low)).toEqual([]);
    const stored = await records(both);
    expect(stored).toHaveLength(2);
    expect(stored.find((r) => r.kind === 'FIRST_RESPONSE')).toMatchObject({
      key: `sla:${both}:FIRST_RESPONSE:${sh('2026-11-23T09:30').toISOString()}`,
      dueAt: sh('2026-11-23T09:30'),
      breachedAt: now,
      action: 'REASSIGN',
      acknowledgedAt: null,
    });
    // Later passes of both replicas change nothing.
    await Promise.all([a.escalator.run(sh('2026-11-23T16:00')), b.escalator.run(sh('2026-11-23T16:00'))]);
    expect(await calls(both)).toHaveLength(2);
    expect(await calls(answered)).toHaveLength(1);
    expect(await records(both)).toHaveLength(2);
  });

  it('once per breach even when the ticket side keeps listing it (the claim decides, not the port)', async () => {
    const [a, b] = await Promise.all([replica(), replica()]);
    const id = await addTicket('HIGH', sh('2026-11-23T09:00'));
    // Simulate a port that never remembers: forget the escalation after each pass.
    const now = sh('2026-11-23T11:00'); // first response (60 min) due 10:00
    await Promise.all([a.escalator.run(now), b.escalator.run(now)]);
    await admin.collection<PortTicket>('port_tickets').updateOne({ _id: id }, { $set: { escalated: [] } });
    await Promise.all([a.escalator.run(now), b.escalator.run(now)]);
    expect(await calls(id)).toHaveLength(1);
    expect(await records(id)).toHaveLength(1);
    // Hours later (long past the claims' two-minute takeover of unfinished work): still once.
    await Promise.all([a.escalator.run(sh('2026-11-23T15:00')), b.escalator.run(sh('2026-11-23T15:00'))]);
    expect(await calls(id)).toHaveLength(1);
  });

  it('survives a restart: a breach that happened while no replica ran is escalated on start, earlier ones not again', async () => {
    const before = await replica();
    // Real time now: opened two weeks ago, both targets are long past.
    const old = await addTicket('URGENT', new Date(Date.now() - 14 * 86_400_000));
    const oldClock = (await admin.collection<PortTicket>('port_tickets').findOne({ _id: old }))!.clock;
    const between = new Date((oldClock.firstResponseDueAt.getTime() + oldClock.resolutionDueAt.getTime()) / 2);
    // Counted on this ticket: `between` is about two weeks ago, and the earlier tests' tickets (fixed
    // dates) may be due then too, depending on today's date.
    await before.escalator.run(between);
    expect((await calls(old)).map((c) => c.kind)).toEqual(['FIRST_RESPONSE']); // only the first response was due then
    await before.connection.close();
    // While stopped: the resolution target passed, and a new ticket breached.
    const fresh = await addTicket('URGENT', new Date(Date.now() - 7 * 86_400_000));
    const after = await replica();
    after.scheduler.start();
    try {
      await eventually(async () => (await calls(fresh)).length >= 1 && (await calls(old)).length >= 2, 20_000);
    } finally {
      await after.scheduler.stop();
    }
    expect((await calls(old)).map((c) => c.kind)).toEqual(['FIRST_RESPONSE', 'RESOLUTION']);
    expect((await calls(fresh)).map((c) => c.kind).sort()).toEqual(['FIRST_RESPONSE', 'RESOLUTION']);
  });

  it('a reopened ticket breaches again with its new due date: a new escalation', async () => {
    const a = await replica();
    const id = await addTicket('URGENT', sh('2026-11-23T09:00'), (c) => markFirstResponse(c, sh('2026-11-23T09:05')));
    // (Counts per ticket: the collection also holds the earlier tests' tickets.)
    await a.escalator.run(sh('2026-11-23T14:30'));
    expect((await calls(id)).map((c) => c.kind)).toEqual(['RESOLUTION']); // due 14:00
    const ticket = await admin.collection<PortTicket>('port_tickets').findOne({ _id: id });
    const reopened = reopenClock(markResolved(ticket!.clock, sh('2026-11-23T15:00')), sh('2026-11-24T09:00'), DEFAULT_SLA_POLICY.calendar);
    await admin.collection<PortTicket>('port_tickets').updateOne({ _id: id }, { $set: { clock: reopened } });
    await a.escalator.run(sh('2026-11-24T12:00')); // due 14:00 Tuesday
    expect(await calls(id)).toHaveLength(1);
    await a.escalator.run(sh('2026-11-24T14:00'));
    expect(await calls(id)).toHaveLength(2);
    expect((await records(id)).map((r) => (r.dueAt as Date).toISOString())).toEqual([sh('2026-11-23T14:00').toISOString(), sh('2026-11-24T14:00').toISOString()]);
  });

  it('a failed escalation gives the claim back: the next pass retries it, and it still happens once', async () => {
    const [a, b] = await Promise.all([replica(), replica()]);
    const id = await addTicket('NORMAL', sh('2026-11-23T09:00'));
    a.port.failuresToInject = 1;
    const now = sh('2026-11-23T14:00'); // first response (240 min) due 14:00
    await a.escalator.run(now);
    expect(await calls(id)).toEqual([]);
    expect(await records(id)).toEqual([]);
    await Promise.all([a.escalator.run(now), b.escalator.run(now)]);
    expect(await calls(id)).toHaveLength(1);
    // NORMAL escalates by notifying the manager (the clock's action).
    expect(await records(id)).toEqual([expect.objectContaining({ kind: 'FIRST_RESPONSE', action: 'NOTIFY_MANAGER' })]);
  });
});
