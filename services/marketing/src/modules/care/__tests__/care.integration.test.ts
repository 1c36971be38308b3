import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher } from '@crm/events';
import { parseEnv } from '@crm/env';
import { createLogger } from '@crm/logger';
import { eventually, gatewayHeaders, graphql, login, smtpCatcher, subgraphTestEnv, testInfra, uniqueName } from '@crm/testing';
import { startMarketing } from '../../../app.js';
import { marketingEnvSchema } from '../../../env.js';
import { localDate } from '../care.holidays.js';

// A real SMTP server on loopback receives what the service sends.
const smtp = await smtpCatcher();
const { received } = smtp;

const infra = await testInfra();
const rawEnv: Record<string, string> = {
  ...subgraphTestEnv(infra, 'marketing'),
  SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
  MARKETING_COMPANY_NAME: 'Acme Edu',
  // The tests run the plans themselves.
  CARE_INTERVAL_MS: '0',
  CARE_HOLIDAYS: JSON.stringify([{ key: 'FOUNDERS_DAY', name: 'Founders Day', dates: ['2027-03-15'] }]),
};
const env = parseEnv(marketingEnvSchema, rawEnv);
let running = await startMarketing(env);
const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const publisher = new KafkaEventPublisher(kafka);
const [marketer, rep] = await Promise.all(['marketer', 'sales.rep'].map((u) => login(infra, u)));
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = marketer!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));

afterAll(async () => {
  await kafka.disconnect();
  await running.deps.connection.dropDatabase();
  await running.stop();
  await smtp.close();
});

const CREATE = `mutation($input: CreateCarePlanInput!) { createCarePlan(input: $input) { id kind active } }`;
const RUN = `mutation($d: String) { runCarePlans(day: $d) { day sent skipped failed } }`;
const today = localDate(new Date(), 'Asia/Shanghai');

async function customer(name: string, birthday: string | null, email: string | null, tags: string[] = []): Promise<string> {
  const customerId = new Types.ObjectId().toHexString();
  await publisher.publish([createEvent({ source: '/crm/customers', type: 'customer.created', subject: customerId, data: { customerId, name, birthday, tags, version: 1 } })]);
  await eventually(async () => ((await running.services.customerProfiles.get(customerId)) ? true : undefined), 60_000, 200);
  if (email) await call(`mutation($c: ID!, $a: String) { setContactConsent(customerId: $c, input: { channel: EMAIL, optedIn: true, address: $a }) { optedIn } }`, { c: customerId, a: email });
  return customerId;
}
const mailsTo = (address: string) => received.filter((m) => m.to.includes(address));

describe('care plans (real SMTP server, Mongo, Kafka, Keycloak)', () => {
  it('greets customers on their birthday once, by email where they consented; others are skipped; a restart sends nothing again', async () => {
    const tag = uniqueName('b');
    const born = `1990-${today.slice(5)}`;
    await customer('Han Meimei', born, `han.${tag}@example.edu.cn`);
    await customer('No Consent', born, null);
    await customer('Other Day', '1990-01-01' === born ? '1990-01-02' : '1990-01-01', `other.${tag}@example.edu.cn`);
    const plan = await call(CREATE, { input: { name: 'Birthday', kind: 'BIRTHDAY', channel: 'EMAIL', subject: 'Happy birthday, {{name}}!', body: 'All the best from {{company}}.' } });
    expect(plan.errors).toBeUndefined();

    const first = await call(RUN, {});
    expect(first.data!.runCarePlans).toMatchObject({ day: today, sent: 1, skipped: 1, failed: 0 });
    const mail = await eventually(async () => mailsTo(`han.${tag}@example.edu.cn`)[0], 10_000, 100);
    expect(mail.raw).toMatch(/^Subject: Happy birthday, Han Meimei!$/m);
    expect(mail.raw).toContain('All the best from Acme Edu.');
    expect(mailsTo(`other.${tag}@example.edu.cn`)).toHaveLength(0);

    // Two replicas at once, then a restarted service on the same database: nobody is greeted twice.
    const [again, parallel] = await Promise.all([call(RUN, {}), running.scheduler.tick()]);
    expect(again.data!.runCarePlans.sent).toBe(0);
    expect(parallel['care-plans']).toBe(0);
    await running.stop();
    running = await startMarketing(env);
    expect((await call(RUN, {})).data!.runCarePlans).toMatchObject({ sent: 0, skipped: 0 });
    expect(mailsTo(`han.${tag}@example.edu.cn`)).toHaveLength(1);
    await call(`mutation($id: ID!) { setCarePlanActive(id: $id, expectedVersion: 1, active: false) { active } }`, { id: plan.data!.createCarePlan.id });
  });

  it('greets a segment on a holiday from the calendar (configured ones too) with {{holiday}}, and sends company news once on its day', async () => {
    const tag = uniqueName('vip');
    const vip = await customer('Li Lei', null, `li.${tag}@example.edu.cn`, [tag]);
    await customer('Not VIP', null, `not.${tag}@example.edu.cn`);
    const segment = (await call(`mutation($r: SegmentRuleInput!) { createSegment(input: { name: "VIP", kind: DYNAMIC, rule: $r }) { id memberCount } }`, { r: { condition: { field: 'TAGS', op: 'HAS_ANY', texts: [tag] } } })).data!.createSegment;
    expect(segment.memberCount).toBe(1);
    const holidays = (await call(`{ holidays { key dates } }`)).data!.holidays;
    expect(holidays.find((h: { key: string }) => h.key === 'SPRING_FESTIVAL').dates).toContain('2027-02-06');
    expect(holidays.find((h: { key: string }) => h.key === 'FOUNDERS_DAY').dates).toEqual(['2027-03-15']);
    await call(CREATE, { input: { name: 'Spring Festival', kind: 'HOLIDAY', holiday: 'SPRING_FESTIVAL', segmentId: segment.id, channel: 'EMAIL', subject: '{{holiday}} greetings', body: 'Dear {{name}}, happy {{holiday}}!' } });

    expect((await call(RUN, { d: '2027-02-05' })).data!.runCarePlans.sent).toBe(0);
    expect((await call(RUN, { d: '2027-02-06' })).data!.runCarePlans.sent).toBe(1);
    const mail = await eventually(async () => mailsTo(`li.${tag}@example.edu.cn`)[0], 10_000, 100);
    expect(mail.raw).toContain('Dear Li Lei, happy');
    expect(mailsTo(`not.${tag}@example.edu.cn`)).toHaveLength(0);
    expect((await call(RUN, { d: '2027-02-06' })).data!.runCarePlans.sent).toBe(0);
    expect(vip).toMatch(/^[0-9a-f]{24}$/);

    await call(CREATE, { input: { name: 'New campus', kind: 'NEWS', sendOn: '2027-04-01', channel: 'EMAIL', subject: 'News from {{company}}', body: 'We opened a new campus office.' } });
    expect((await call(RUN, { d: '2027-03-31' })).data!.runCarePlans.sent).toBe(0);
    const news = (await call(RUN, { d: '2027-04-01' })).data!.runCarePlans;
    expect(news.sent).toBeGreaterThanOrEqual(2);
    expect((await call(RUN, { d: '2027-04-02' })).data!.runCarePlans.sent).toBe(0);
  });

  it('rejects bad plans with field paths, and non-marketers', async () => {
    const bad = await call(CREATE, { input: { name: 'x', kind: 'HOLIDAY', holiday: 'MY_BIRTHDAY', channel: 'EMAIL', subject: 'Hi {{nickname}}', body: 'x', sendOn: '2027-01-01' } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect((bad.errors![0]!.extensions!.fields as Array<{ field: string }>).map((f: { field: string }) => f.field)).toEqual(['input.subject', 'input.holiday', 'input.sendOn']);
    expect((await call(CREATE, { input: { name: 'x', kind: 'NEWS', channel: 'EMAIL', subject: 's', body: 'b' } })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.sendOn' }] });
    expect((await call(RUN, { d: '2027-13-01' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect((await call(RUN, {}, rep!)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});
