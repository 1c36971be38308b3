import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@crm/logger';
import type { CloudEvent } from '@crm/events';
import { PersonalDataOpener } from '@crm/personal-data';
import { eventually, login, testInfra, watchTopic } from '@crm/testing';
import { startTestCustomers } from './helpers.js';

// Right to erasure in the customers service (SYS-6), against the real servers: afterwards no value
// that identified the person is anywhere in this service's database.
const infra = await testInfra();
const { running, rawEnv, call } = await startTestCustomers(infra);
const [admin, rep] = await Promise.all(['admin', 'sales.rep'].map((u) => login(infra, u)));
const watcher = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.customer`);
afterAll(async () => {
  await watcher.stop();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const PERSONAL = {
  name: '欧阳娜娜',
  email: 'ouyang.nana@example.cn',
  phone: '13912345678',
  identity: '11010519491231002X',
  street: '朝阳区建国路88号',
  notes: 'Prefers calls after 6pm, allergic to peanuts',
  tag: 'vip-ouyang',
  activity: 'Discussed Nana renewal at her home',
  feedback: 'Nana thinks the app is slow',
};

/** Every document of every collection of the service's database, as one string. */
async function wholeDatabase(): Promise<string> {
  const db = running.deps.connection.db!;
  const parts: string[] = [];
  for (const { name } of await db.listCollections().toArray()) parts.push(JSON.stringify(await db.collection(name).find({}).toArray()));
  return parts.join('\n');
}

describe('eraseCustomer', () => {
  let id: string;

  it('removes everything that identifies the person, keeps ids and aggregates, and says so in an ids-only event', async () => {
    const created = await call(
      'mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }',
      {
        input: {
          name: PERSONAL.name,
          gender: 'FEMALE',
          birthday: '1990-05-20',
          email: PERSONAL.email,
          phones: [{ number: PERSONAL.phone }],
          identityDocument: { type: 'PRC_RESIDENT_ID', number: PERSONAL.identity },
          address: { country: 'CN', province: '北京', city: '北京', street: PERSONAL.street },
          tags: [PERSONAL.tag],
          notes: PERSONAL.notes,
          level: 'VIP',
        },
      },
      rep!,
    );
    expect(created.errors).toBeUndefined();
    id = created.data!.createCustomer.id;
    const activity = await call('mutation($input: LogActivityInput!) { logActivity(input: $input) { id } }', { input: { customerId: id, type: 'VISIT', subject: PERSONAL.activity, body: PERSONAL.notes } }, rep!);
    expect(activity.errors).toBeUndefined();
    const feedback = await call('mutation($input: SubmitFeedbackInput!) { submitFeedback(input: $input) { id } }', { input: { customerId: id, productId: '0000000000000000000000aa', rating: 2, comment: PERSONAL.feedback } }, rep!);
    expect(feedback.errors).toBeUndefined();
    await eventually(async () => (await wholeDatabase()).includes(PERSONAL.activity) && !(await running.deps.connection.collection('customers').findOne({ 'pendingEvents.0': { $exists: true } })), 20_000);

    expect((await call('mutation($id: ID!) { eraseCustomer(id: $id, reason: "Art. 17 request") { id } }', { id }, rep!)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const tooShort = await call('mutation($id: ID!) { eraseCustomer(id: $id, reason: " ") { id } }', { id }, admin!);
    expect(tooShort.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'reason' }] });

    const erased = await call(
      'mutation($id: ID!) { eraseCustomer(id: $id, reason: "Erasure request of 2026-12-07") { id name email phones { number } identityDocument { number } address { city } birthday notes tags level lifecycleStage erasedAt } }',
      { id },
      admin!,
    );
    expect(erased.errors).toBeUndefined();
    expect(erased.data!.eraseCustomer).toMatchObject({ id, name: 'Erased customer', email: null, phones: [], identityDocument: null, address: null, birthday: null, notes: null, tags: [], level: 'VIP', lifecycleStage: 'LEAD' });
    expect(erased.data!.eraseCustomer.erasedAt).toBeTruthy();

    const event = await watcher.find((e) => e.subject === id && e.type === 'customer.erased', 20_000);
    expect(Object.keys(event.event.data).sort()).toEqual(['customerId', 'erasedBy', 'portalUserId', 'version']);
    expect(event.event.data.portalUserId).toBeNull();

    // Nothing of the person is left anywhere in the database, once the outbox has published.
    await eventually(async () => !(await running.deps.connection.collection('customers').findOne({ 'pendingEvents.0': { $exists: true } })), 20_000);
    const everything = await wholeDatabase();
    for (const [what, value] of Object.entries(PERSONAL)) expect(everything.includes(value), what).toBe(false);
    expect(everything).not.toContain('1990-05-20');
    // What stays for the figures: the feedback's rating, the activity's type and time.
    const kept = await running.deps.connection.collection('feedback').findOne({ customerId: id });
    expect(kept).toMatchObject({ rating: 2, comment: null });
  });

  it('is final: the record cannot change again, and erasing again changes nothing', async () => {
    const update = await call('mutation($id: ID!) { updateCustomer(id: $id, input: { name: "Back again" }) { id } }', { id }, admin!);
    expect(update.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CUSTOMER_ERASED' });
    const before = (await running.deps.connection.collection('customers').findOne({ _id: new (await import('mongoose')).Types.ObjectId(id) }))!.version;
    const again = await call('mutation($id: ID!) { eraseCustomer(id: $id, reason: "again, by mistake") { version } }', { id }, admin!);
    expect(again.data!.eraseCustomer.version).toBe(before);
    expect(watcher.seen.filter((e) => e.event?.subject === id && e.event.type === 'customer.erased')).toHaveLength(1);
  });
});

describe('erasure and the copies in Kafka (crypto-shredding)', () => {
  it('never puts the personal fields on Kafka in the clear, and erasing the survivor of a merge makes both people\'s events unreadable and erases the merged record', async () => {
    const create = async (name: string, city: string) => {
      const created = await call('mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }', { input: { name, birthday: '1979-11-02', address: { country: 'CN', city } } }, rep!);
      expect(created.errors).toBeUndefined();
      return created.data!.createCustomer.id as string;
    };
    const [survivor, mergedAway] = [await create('诸葛明远', '成都'), await create('诸葛明远二', '绵阳')];
    const merged = await call('mutation($s: ID!, $m: ID!) { mergeCustomers(survivorId: $s, mergedId: $m) { id } }', { s: survivor, m: mergedAway }, rep!);
    expect(merged.errors).toBeUndefined();
    const sealedOf = async (subject: string) => (await watcher.find((e) => e.subject === subject && e.type === 'customer.created', 20_000)).event as unknown as CloudEvent;
    const copies = [await sealedOf(survivor), await sealedOf(mergedAway)];
    for (const copy of copies) {
      for (const value of ['诸葛明远', '成都', '绵阳', '1979-11-02']) expect(JSON.stringify(copy)).not.toContain(value);
      expect(copy.data).toMatchObject({ lifecycleStage: 'LEAD', sealed: { fields: expect.arrayContaining(['name', 'birthday', 'city']) } });
    }
    // Other services open them with keys from this service, as long as the person exists.
    const reader = () =>
      new PersonalDataOpener({ sources: { customer: running.url.replace(/\/graphql$/, '') }, secret: rawEnv.PERSONAL_DATA_SECRET!, logger: createLogger({ service: 't', level: 'silent' }), retryForMs: 2000 });
    expect((await reader().openAll(copies)).map((e) => (e.data as { name: string; city: string }).name + (e.data as { city: string }).city)).toEqual(['诸葛明远成都', '诸葛明远二绵阳']);

    expect((await call('mutation($id: ID!) { eraseCustomer(id: $id, reason: "PIPL request") { id } }', { id: survivor }, admin!)).errors).toBeUndefined();
    expect((await reader().openAll(copies)).map((e) => e.data)).toEqual(copies.map((c) => expect.objectContaining({ customerId: c.subject, name: 'Erased customer', birthday: null, city: null })));
    const keys = running.deps.connection.collection('personal_data_keys');
    expect(await keys.countDocuments({ _id: { $in: [`customer:${survivor}`, `customer:${mergedAway}`] } as never, key: null })).toBe(2);
    // The merged-away record (kept, deleted, for its id) is erased as well.
    const leftover = await running.deps.connection.collection('customers').findOne({ _id: new (await import('mongoose')).Types.ObjectId(mergedAway) });
    expect(leftover).toMatchObject({ name: 'Erased customer', birthday: null, address: null, mergedInto: survivor });
    expect(leftover!.erasedAt).toBeTruthy();
  });
});
