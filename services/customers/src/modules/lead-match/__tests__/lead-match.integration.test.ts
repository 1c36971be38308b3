import { afterAll, describe, expect, it } from 'vitest';
import { login, testInfra } from '@crm/testing';
import { startTestCustomers } from '../../customer/__tests__/helpers.js';

const infra = await testInfra();
const { running, call } = await startTestCustomers(infra);
const users = ['sales.rep', 'admin', 'marketer', 'customer'] as const;
type User = (typeof users)[number];
const tokens = {} as Record<User, string>;
for (const user of users) tokens[user] = await login(infra, user);

afterAll(async () => {
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const createCustomer = async (input: Record<string, unknown>, as: User) => {
  const result = await call(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, { input }, tokens[as]);
  expect(result.errors).toBeUndefined();
  return result.data!.createCustomer.id as string;
};
/** What the gateway sends for `Lead.possibleCustomerMatches`: the key and the @requires fields fetched from sales. */
const MATCHES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Lead { id possibleCustomerMatches { customer { id name } reasons } } } }`;
const matches = async (lead: Record<string, unknown>, as: User = 'sales.rep') => {
  const result = await call(MATCHES, { r: [{ __typename: 'Lead', id: 'a'.repeat(24), name: 'Nobody', company: null, email: null, phones: [], ...lead }] }, tokens[as]);
  expect(result.errors).toBeUndefined();
  return (result.data!._entities[0].possibleCustomerMatches as Array<{ customer: { id: string; name: string }; reasons: string[] }>)
    .map((m) => ({ name: m.customer.name, reasons: [...m.reasons].sort() }))
    .sort((a, b) => a.name.localeCompare(b.name));
};

describe('Lead.possibleCustomerMatches (SAL-2 duplicate check with the CUS-6 rules)', () => {
  it('finds customers by phone, email, and name in the same organisation, only among those the caller can see', async () => {
    await createCustomer({ name: 'Phone Match', phones: [{ number: '138 0013 8000' }] }, 'sales.rep');
    await createCustomer({ name: 'Email Match', email: 'wang.fang@example.cn' }, 'sales.rep');
    await createCustomer({ name: 'Wang Fang', organization: '复旦大学' }, 'sales.rep');
    await createCustomer({ name: 'Other org', organization: '同济大学', phones: [{ number: '13900139000' }] }, 'sales.rep');
    // Owned in the management department: invisible to a sales rep.
    await createCustomer({ name: 'Hidden Phone Match', phones: [{ number: '+8613800138000' }] }, 'admin');

    const lead = { name: '王芳', company: '复旦大学', email: 'Wang.Fang@Example.cn ', phones: ['+86 138 0013 8000', 'garbage'] };
    expect(await matches(lead)).toEqual([
      { name: 'Email Match', reasons: ['SAME_EMAIL'] },
      { name: 'Phone Match', reasons: ['SAME_PHONE'] },
      { name: 'Wang Fang', reasons: ['SIMILAR_NAME_SAME_ORGANIZATION'] },
    ]);
    expect((await matches(lead, 'admin')).map((m) => m.name)).toEqual(['Email Match', 'Hidden Phone Match', 'Phone Match', 'Wang Fang']);
    // Marketers read every customer (CUS-7).
    expect((await matches(lead, 'marketer')).map((m) => m.name)).toEqual(['Email Match', 'Hidden Phone Match', 'Phone Match', 'Wang Fang']);
    // A customer account sees no other customers.
    expect(await matches(lead, 'customer')).toEqual([]);
  });

  it('finds nothing without contact details or when nothing matches; a name without a company is no signal', async () => {
    expect(await matches({})).toEqual([]);
    expect(await matches({ name: 'Wang Fang' })).toEqual([]);
    expect(await matches({ name: 'Someone', email: 'nobody@example.cn', phones: ['13700137000'] })).toEqual([]);
  });

  it('leaves out deleted customers', async () => {
    const id = await createCustomer({ name: 'Deleted Match', email: 'deleted.match@example.cn' }, 'sales.rep');
    expect((await matches({ email: 'deleted.match@example.cn' })).map((m) => m.name)).toEqual(['Deleted Match']);
    expect((await call(`mutation($id: ID!) { deleteCustomer(id: $id) { id } }`, { id }, tokens['sales.rep'])).errors).toBeUndefined();
    expect(await matches({ email: 'deleted.match@example.cn' })).toEqual([]);
  });
});
