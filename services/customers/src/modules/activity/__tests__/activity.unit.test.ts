import { describe, expect, it } from 'vitest';
import { createEvent, PoisonEventError } from '@crm/events';
import { timelineEntryId } from '../timeline.model.js';
import { timelineEntryOf } from '../timeline.service.js';

const customerId = '6740a1b2c3d4e5f601234567';
const ticket = (data: Record<string, unknown>) => createEvent({ source: '/crm/service-desk', type: 'ticket.created', subject: 't1', data });

describe('timeline projection of one event', () => {
  it('gives the same entry id for the same event id, and different ids for different events', () => {
    const event = ticket({ ticketId: 't1', customerId, type: 'AFTER_SALES', priority: 'URGENT', channel: 'WECHAT', status: 'NEW', createdAt: '2026-11-01T08:00:00.000Z' });
    const entry = timelineEntryOf(event);
    expect(entry._id.equals(timelineEntryOf(event)._id)).toBe(true);
    expect(entry._id.equals(timelineEntryId(event.id))).toBe(true);
    expect(entry._id.equals(timelineEntryId(`${event.id}x`))).toBe(false);
    expect(entry).toMatchObject({ kind: 'TICKET', customerId, ticketId: 't1', actorId: null, summary: 'Ticket opened: after sales, urgent priority, via wechat' });
    expect(entry.occurredAt.toISOString()).toBe('2026-11-01T08:00:00.000Z');
  });

  it('projects ticket.opened (the current name) like ticket.created (the name before)', () => {
    const data = { ticketId: 't2', customerId, type: 'COMPLAINT', priority: 'HIGH', channel: 'CHAT', status: 'NEW', createdAt: '2026-11-02T08:00:00.000Z', version: 1 };
    const opened = timelineEntryOf(createEvent({ source: '/crm/service-desk', type: 'ticket.opened', subject: 't2', data }));
    expect(opened).toMatchObject({ kind: 'TICKET', customerId, ticketId: 't2', eventType: 'ticket.opened', summary: 'Ticket opened: complaint, high priority, via chat' });
  });

  it('refuses unusable data and foreign types as poison (parked, never retried)', () => {
    expect(() => timelineEntryOf(ticket({ ticketId: 't1', customerId: 'x' }))).toThrow(PoisonEventError);
    expect(() => timelineEntryOf(createEvent({ source: '/crm/sales', type: 'order.placed', subject: 'o1', data: {} }))).toThrow(/not a timeline event/);
    expect(() => timelineEntryOf(createEvent({ source: '/crm/customers', type: 'activity.logged', subject: customerId, data: { customerId } }))).toThrow(PoisonEventError);
  });
});
