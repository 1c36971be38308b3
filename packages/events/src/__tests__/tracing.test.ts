import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { afterAll, describe, expect, it } from 'vitest';
import { connectMongo } from '@crm/mongo';
import { currentTraceparent, inSpan, startTelemetry } from '@crm/telemetry';
import { eventually, uniqueName, watchTopic } from '@crm/testing';
import { createEvent, parseEvent, type CloudEvent } from '../envelope.js';
import { EventConsumer, MongoProcessedEvents } from '../consumer.js';
import { KafkaEventPublisher } from '../kafka.js';
import { infra, kafkaClient, logger } from './helpers.js';

// A trace continues from the request that creates an event, through Kafka, into its consumer.
const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({ service: 'events-test', exporter, scheduleDelayMs: 10 });
const entity = uniqueName('traced').replace(/_/g, '-');
const topic = `crm.${entity}`;
const client = kafkaClient();
const connection = await connectMongo({ url: infra.mongoUrl, dbName: uniqueName('events_tracing') });
const watcher = await watchTopic(infra, topic);
afterAll(async () => {
  await watcher.stop();
  await client.disconnect();
  await connection.dropDatabase();
  await connection.close();
});
const traceOf = (traceparent: string | undefined) => traceparent?.split('-')[1];

describe('trace context through Kafka (real Kafka)', () => {
  it('stamps events with the active trace, sends it as a header, and the consumer continues that trace', async () => {
    const handledIn: Record<string, string | undefined> = {};
    const consumer = new EventConsumer({
      client,
      groupId: uniqueName('traced-group'),
      topics: [topic],
      processed: new MongoProcessedEvents(connection, 'traced-group'),
      logger,
      handle: async (event) => {
        handledIn[event.id] = currentTraceparent();
      },
    });
    await consumer.start();
    try {
      let requestTrace: string | undefined;
      let traced!: CloudEvent;
      await inSpan('POST /graphql', {}, async () => {
        requestTrace = traceOf(currentTraceparent());
        traced = createEvent({ source: '/test', type: `${entity}.created`, subject: 'a1', data: {} });
      });
      const untraced = createEvent({ source: '/test', type: `${entity}.created`, subject: 'a2', data: {} });
      expect(traceOf(traced.traceparent)).toBe(requestTrace);
      expect(untraced.traceparent).toBeUndefined();
      await new KafkaEventPublisher(client).publish([traced, untraced]);

      const sent = await watcher.find((e) => e.id === traced.id, 20_000);
      expect(traceOf(sent.headers.traceparent)).toBe(requestTrace);
      expect(sent.event.traceparent).toBe(traced.traceparent);
      await eventually(async () => handledIn[traced.id] && handledIn[untraced.id], 20_000);
      expect(traceOf(handledIn[traced.id])).toBe(requestTrace);
      expect(traceOf(handledIn[untraced.id])).not.toBe(requestTrace);
      // The consumer's span ends after the handler returns (the event is marked processed first), so wait for it.
      const consumerSpan = await eventually(async () => {
        await telemetry.shutdown();
        return exporter.getFinishedSpans().find((s) => s.name === `${entity}.created process` && s.spanContext().traceId === requestTrace);
      }, 10_000);
      expect(consumerSpan?.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'messaging.message.id': traced.id });
    } finally {
      await consumer.stop();
    }
  });

  it('drops a malformed trace context instead of refusing the event', () => {
    const event = parseEvent(JSON.stringify({ ...createEvent({ source: '/t', type: 'x.created', subject: 's', data: {} }), traceparent: 'garbage' }));
    expect(event.traceparent).toBeUndefined();
  });
});
