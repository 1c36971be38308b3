import { describe, expect, it } from 'vitest';
import { createEvent, deadLetterTopicFor, InvalidEventError, parseEvent, topicFor } from '../envelope.js';

describe('CloudEvents envelope', () => {
  it('creates a CloudEvents 1.0 event keyed by the aggregate id', () => {
    const event = createEvent({ source: '/crm/customers', type: 'customer.created', subject: 'c1', data: { name: 'Ann', at: new Date(0) } });
    expect(event).toMatchObject({
      specversion: '1.0',
      source: '/crm/customers',
      type: 'customer.created',
      subject: 'c1',
      datacontenttype: 'application/json',
      data: { name: 'Ann', at: '1970-01-01T00:00:00.000Z' },
    });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.time.endsWith('Z')).toBe(true);
  });

  it('refuses event types that are not <entity>.<past-tense verb>', () => {
    expect(() => createEvent({ source: '/x', type: 'CustomerCreated', subject: 'c1', data: {} })).toThrow(/not <entity>/);
    expect(() => createEvent({ source: '/x', type: 'customer.created', subject: '', data: {} })).toThrow(/subject/);
  });

  it('routes one topic per aggregate type, with a dead-letter twin', () => {
    expect(topicFor('customer.created')).toBe('crm.customer');
    expect(topicFor('customer.merged')).toBe('crm.customer');
    expect(topicFor('customer.created', 'ci_42')).toBe('ci_42.customer');
    expect(deadLetterTopicFor('crm.customer')).toBe('crm.customer.dlq');
  });

  it('parses a valid event and rejects anything else', () => {
    const event = createEvent({ source: '/x', type: 'ticket.opened', subject: 't1', data: { a: 1 } });
    expect(parseEvent(Buffer.from(JSON.stringify(event)))).toEqual(event);
    expect(() => parseEvent(null)).toThrow(InvalidEventError);
    expect(() => parseEvent('not json')).toThrow(InvalidEventError);
    expect(() => parseEvent(JSON.stringify({ ...event, specversion: '0.3' }))).toThrow(/specversion/);
    expect(() => parseEvent(JSON.stringify({ ...event, id: undefined }))).toThrow(/id/);
    expect(() => parseEvent(JSON.stringify({ ...event, time: 'yesterday' }))).toThrow(/time/);
  });
});
