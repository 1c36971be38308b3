import { randomUUID } from 'node:crypto';
import { currentTraceparent } from '@crm/telemetry';

/**
 * A domain event in CloudEvents 1.0 structured form. `subject` is the aggregate id and is also the
 * Kafka message key, so one aggregate's events stay ordered on one partition.
 */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  /** URI-reference of the producing service, e.g. `/crm/customers`. */
  source: string;
  /** `<entity>.<past-tense verb>`, e.g. `customer.created`. */
  type: string;
  subject: string;
  /** RFC 3339 UTC instant. Kept as a string so the stored outbox entry round-trips byte for byte. */
  time: string;
  datacontenttype: 'application/json';
  data: T;
  /**
   * CloudEvents distributed-tracing extension: the trace context the event was created in (the
   * request or job that caused it), so its consumers continue the same trace.
   */
  traceparent?: string;
}

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

const EVENT_TYPE = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;

export function createEvent<T>(input: { source: string; type: string; subject: string; data: T; time?: Date }): CloudEvent<T> {
  if (!EVENT_TYPE.test(input.type)) throw new Error(`Event type "${input.type}" is not <entity>.<past-tense verb>`);
  if (!input.subject) throw new Error('Event subject (aggregate id) is required');
  const traceparent = currentTraceparent();
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: input.source,
    type: input.type,
    subject: input.subject,
    time: (input.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    // Plain JSON only: stored in the outbox and compared exactly when removed.
    data: JSON.parse(JSON.stringify(input.data)) as T,
    ...(traceparent ? { traceparent } : {}),
  };
}

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export const DEFAULT_TOPIC_PREFIX = 'crm';

/**
 * One topic per aggregate type: `<prefix>.<entity>` (e.g. `crm.customer` carries `customer.*`).
 * The prefix namespaces an environment, so test runs and a demo sharing one broker do not see
 * each other's events.
 */
export function topicFor(eventType: string, prefix = DEFAULT_TOPIC_PREFIX): string {
  const entity = eventType.split('.')[0];
  if (!entity) throw new Error(`Cannot derive a topic from "${eventType}"`);
  return `${prefix}.${entity}`;
}

export function deadLetterTopicFor(topic: string): string {
  return `${topic}.dlq`;
}

export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

/** Parses and checks a structured-mode CloudEvent; throws {@link InvalidEventError} on anything else. */
export function parseEvent(raw: Buffer | string | null): CloudEvent {
  if (raw === null) throw new InvalidEventError('Empty message');
  let value: unknown;
  try {
    value = JSON.parse(raw.toString());
  } catch {
    throw new InvalidEventError('Message is not JSON');
  }
  if (typeof value !== 'object' || value === null) throw new InvalidEventError('Message is not an object');
  const event = value as Partial<CloudEvent>;
  const missing = (['id', 'source', 'type', 'subject', 'time'] as const).filter((key) => typeof event[key] !== 'string' || !event[key]);
  if (event.specversion !== '1.0') missing.push('specversion' as never);
  if (missing.length > 0) throw new InvalidEventError(`Not a CloudEvent 1.0: bad ${missing.join(', ')}`);
  if (Number.isNaN(Date.parse(event.time as string))) throw new InvalidEventError('Bad time');
  // A malformed trace context is dropped, not fatal: tracing must never park a good event.
  if (event.traceparent !== undefined && (typeof event.traceparent !== 'string' || !TRACEPARENT.test(event.traceparent))) delete event.traceparent;
  return event as CloudEvent;
}
