import { Types } from 'mongoose';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher } from '@crm/events';
import { parseEnv } from '@crm/env';
import { createLogger } from '@crm/logger';
import { eventually, gatewayHeaders, graphql, login, smtpCatcher, subgraphTestEnv, testInfra, uniqueName, watchTopic } from '@crm/testing';
import { startMarketing } from '../../../app.js';
import { marketingEnvSchema } from '../../../env.js';
import { render, unknownPlaceholders } from '../message.service.js';

// A real SMTP server on loopback receives what the service sends.
const smtp = await smtpCatcher();
const { received, port: smtpPort } = smtp;

const infra = await testInfra();
const rawEnv: Record<string, string> = { ...subgraphTestEnv(infra, 'marketing'), SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MAIL_FROM: 'CRM Marketing <marketing@crm.test>', MARKETING_COMPANY_NAME: 'Acme Edu' };
const running = await startMarketing(parseEnv(marketingEnvSchema, rawEnv));
const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const publisher = new KafkaEventPublisher(kafka);
const [marketer, customerToken, rep] = await Promise.all(['marketer', 'customer', 'sales.rep'].map((u) => login(infra, u)));
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = marketer!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));
const sent = await watchTopic(infra, `${prefix}.message`);
const subjectOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;

afterAll(async () => {
  await sent.stop();
  await kafka.disconnect();
  await running.deps.connection.dropDatabase();
  await running.stop();
  await smtp.close();
});

const CONSENT = `mutation($c: ID!, $i: ContactConsentInput!) { setContactConsent(customerId: $c, input: $i) { channel optedIn address source changedBy } }`;
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id status reason deliveredVia occasion sentAt subject } }`;

describe('consent and messages (real SMTP server, Mongo, Kafka, Keycloak)', () => {
  it('templates: unknown placeholders are named; known ones are filled', () => {
    expect(unknownPlaceholders('Dear {{name}}, {{ holiday }} at {{company}} {{name}}', ['name', 'company'])).toEqual(['holiday']);
    expect(render('Dear {{ name }}, greetings from {{company}}', { name: 'Li Lei', company: 'Acme' })).toBe('Dear Li Lei, greetings from Acme');
  });

  it('emails a customer who opted in, through the SMTP server, placeholders filled, once per idempotency key; message.sent carries no text', async () => {
    const customerId = new Types.ObjectId().toHexString();
    await publisher.publish([createEvent({ source: '/crm/customers', type: 'customer.created', subject: customerId, data: { customerId, name: 'Li Lei', tags: [], version: 1 } })]);
    await eventually(async () => ((await running.services.customerProfiles.get(customerId)) ? true : undefined), 60_000, 200);
    const consent = await call(CONSENT, { c: customerId, i: { channel: 'EMAIL', optedIn: true, address: 'li.lei@example.edu.cn' } });
    expect(consent.data!.setContactConsent).toEqual({ channel: 'EMAIL', optedIn: true, address: 'li.lei@example.edu.cn', source: 'STAFF', changedBy: subjectOf(marketer!) });

    const key = uniqueName('news');
    const input = { customerId, channel: 'EMAIL', subject: 'News from {{company}}', body: 'Dear {{name}},\nour new smart classroom kit is here.', idempotencyKey: key };
    const first = await call(SEND, { i: input });
    expect(first.errors).toBeUndefined();
    expect(first.data!.sendMessage).toMatchObject({ status: 'SENT', deliveredVia: 'smtp', subject: 'News from Acme Edu', occasion: `manual:${key}` });
    const mail = await eventually(async () => received.find((m) => m.to.includes('li.lei@example.edu.cn')), 10_000, 100);
    expect(mail.from).toBe('marketing@crm.test');
    expect(mail.raw).toMatch(/^Subject: News from Acme Edu$/m);
    expect(mail.raw).toContain('Dear Li Lei,');
    const again = await call(SEND, { i: input });
    expect(again.data!.sendMessage.id).toBe(first.data!.sendMessage.id);
    await new Promise((r) => setTimeout(r, 500));
    expect(received.filter((m) => m.to.includes('li.lei@example.edu.cn'))).toHaveLength(1);

    const event = await sent.find((e) => e.type === 'message.sent' && e.subject === customerId, 30_000);
    expect(event.event.data).toMatchObject({ customerId, channel: 'EMAIL', deliveredVia: 'smtp', occasion: `manual:${key}` });
    expect(JSON.stringify(event.event)).not.toContain('smart classroom');
    expect(JSON.stringify(event.event)).not.toContain('li.lei@');

    // Erasure rewrites the message and the consent address one document at a time in step with the
    // relay (FerretDB v1: a racing removal of message.sent / consent.changed could bring them back).
    const bulk = vi.spyOn(running.deps.relay, 'updateMatching');
    await publisher.publish([createEvent({ source: '/crm/customers', type: 'customer.erased', subject: customerId, data: { customerId, erasedBy: subjectOf(marketer!), version: 2, portalUserId: null } })]);
    const erased = await eventually(async () => {
      const stored = await running.deps.connection.collection('messages').findOne({ customerId });
      return stored?.to === null ? stored : undefined;
    }, 30_000, 200);
    expect(erased).toMatchObject({ subject: '[erased]', body: '[erased]', status: 'SENT' });
    expect((await running.deps.connection.collection('contact_consents').findOne({ customerId }))?.address).toBeNull();
    expect(bulk.mock.calls.map(([model]) => model.collection.collectionName).sort()).toEqual(['contact_consents', 'messages']);
    bulk.mockRestore();
  });

  it('refuses sends without consent and after an opt-out; SMS goes out log-only; bad input names its fields', async () => {
    const customerId = new Types.ObjectId().toHexString();
    const refused = await call(SEND, { i: { customerId, channel: 'EMAIL', subject: 'Hi', body: 'Hello' } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'MESSAGE_NO_CONSENT' });
    await call(CONSENT, { c: customerId, i: { channel: 'SMS', optedIn: true, address: '+8613912345678' } });
    const sms = await call(SEND, { i: { customerId, channel: 'SMS', subject: 'Hi', body: 'Hello {{name}}' } });
    expect(sms.data!.sendMessage).toMatchObject({ status: 'SENT', deliveredVia: 'log-only' });
    const out = await call(CONSENT, { c: customerId, i: { channel: 'SMS', optedIn: false } });
    expect(out.data!.setContactConsent).toMatchObject({ optedIn: false, address: '+8613912345678' });
    expect((await call(SEND, { i: { customerId, channel: 'SMS', subject: 'Hi', body: 'Hello' } })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'MESSAGE_NO_CONSENT' });

    const bad = await call(SEND, { i: { customerId, channel: 'SMS', subject: '', body: 'Happy {{holiday}}' } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(bad.errors![0]!.extensions!.fields).toEqual([
      { field: 'input.subject', message: '1 to 200 characters' },
      { field: 'input.body', message: 'Unknown placeholder {{holiday}} (known: {{name}}, {{company}})' },
    ]);
    const noAddress = await call(CONSENT, { c: new Types.ObjectId().toHexString(), i: { channel: 'EMAIL', optedIn: true } });
    expect(noAddress.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.address' }] });
    const badAddress = await call(CONSENT, { c: customerId, i: { channel: 'SMS', optedIn: true, address: '12345' } });
    expect(badAddress.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.address', message: 'A mobile number in international form, e.g. +8613912345678' }] });
    expect((await call(SEND, { i: { customerId, channel: 'SMS', subject: 'x', body: 'y' } }, rep!)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const list = await call(`query($c: ID!) { messages(customerId: $c) { status channel } }`, { c: customerId });
    expect(list.data!.messages).toEqual([{ status: 'SENT', channel: 'SMS' }]);
  });

  it('a customer opts themself out; nobody else can change their consent', async () => {
    const own = new Types.ObjectId().toHexString();
    await publisher.publish([createEvent({ source: '/crm/customers', type: 'customer.created', subject: own, data: { customerId: own, name: 'Self', tags: [], portalUserId: subjectOf(customerToken!), version: 1 } })]);
    await eventually(async () => ((await running.services.customerProfiles.byPortalUser(subjectOf(customerToken!))) ? true : undefined), 60_000, 200);
    const mine = await call(CONSENT, { c: own, i: { channel: 'WECHAT', optedIn: false } }, customerToken!);
    expect(mine.data!.setContactConsent).toMatchObject({ optedIn: false, source: 'CUSTOMER' });
    expect((await call(CONSENT, { c: new Types.ObjectId().toHexString(), i: { channel: 'WECHAT', optedIn: false } }, customerToken!)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});
