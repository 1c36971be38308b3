import { describe, expect, it } from 'vitest';
import { createLogger } from '@crm/logger';
import { connectMongo } from '@crm/mongo';
import { PersonalDataOpener } from '@crm/personal-data';
import type { CloudEvent } from '@crm/events';
import { adminServiceToken, eventually, login, topicMessageCounts, uniqueName, userSetsPassword, watchTopic } from '@crm/testing';
import { e2ePlatform, gatewayCalls } from './platform.js';

// Right to erasure (SYS-6) across the platform: a person known to sales, the customers service, the
// service desk (with a self-service account), marketing and analytics is erased by an admin through
// the gateway; afterwards no value that identified them is left in any service's database, their
// Keycloak account is gone, and Kafka's history holds none of their values in the clear and only
// sealed copies that no key opens any more (crypto-shredding, @crm/personal-data).
const { infra, platform } = await e2ePlatform('erasure');
const { raw, asUser } = gatewayCalls(platform);
const [adminToken, repToken, managerToken, agentToken] = await Promise.all(['admin', 'sales.rep', 'sales.manager', 'service.agent'].map((u) => login(infra, u)));
const admin = asUser(adminToken!);
const rep = asUser(repToken!);

const tag = uniqueName('p').replace(/[^a-z0-9]/gi, '').slice(-8);
const PERSONAL = {
  name: `慕容雪${tag}`,
  email: `murong.${tag}@example.cn`,
  phone: '13811112222',
  identity: '11010519491231002X',
  street: `海淀区中关村大街${tag}号`,
  note: `Lives with her mother ${tag}`,
  activity: `Visited ${tag} at home about renewal`,
  ticket: `Invoice for ${tag} shows a wrong address`,
  question: `My card ending 4321 was charged twice ${tag}`,
};

/** Every service's database as one string (processed event ids and nothing else excluded). */
async function everyDatabase(): Promise<string> {
  const parts: string[] = [];
  for (const { db } of Object.values(platform.subgraphs)) {
    const connection = await connectMongo({ url: infra.mongoUrl, dbName: db });
    try {
      for (const { name } of await connection.db!.listCollections().toArray()) parts.push(`${db}.${name} ${JSON.stringify(await connection.db!.collection(name).find({}).toArray())}`);
    } finally {
      await connection.close();
    }
  }
  return parts.join('\n');
}

/** Every message of this run's topics, read from the beginning, by topic (without the run's prefix). */
async function everyTopic(): Promise<Record<string, Array<{ event: CloudEvent }>>> {
  const counts = await topicMessageCounts(infra, `${platform.topicPrefix}.`);
  const messages: Record<string, Array<{ event: CloudEvent }>> = {};
  for (const [topic, count] of Object.entries(counts)) {
    if (count === 0) continue;
    const watcher = await watchTopic(infra, topic);
    try {
      await eventually(async () => watcher.seen.length >= count, 20_000).catch(() => undefined);
      messages[topic.slice(platform.topicPrefix.length + 1)] = watcher.seen.map((m) => ({ event: m.event as unknown as CloudEvent }));
    } finally {
      await watcher.stop();
    }
  }
  return messages;
}

/** Which of `values` each topic holds: the event types carrying them. */
function topicsHolding(topics: Record<string, Array<{ event: CloudEvent }>>, values: string[]): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const [topic, messages] of Object.entries(topics)) {
    const hits = messages.filter((m) => values.some((v) => JSON.stringify(m.event).includes(v))).map((m) => String(m.event?.type));
    if (hits.length > 0) found[topic] = hits;
  }
  return found;
}

describe('right to erasure across the platform', () => {
  it('erases a person from every service, keeping ids and figures, and removes their account', async () => {
    // Sales: a lead converted into a new customer.
    const lead = await rep(`mutation($input: CreateLeadInput!) { createLead(input: $input) { id } }`, {
      input: { name: PERSONAL.name, email: PERSONAL.email, phones: [PERSONAL.phone], source: 'WEBSITE', notes: PERSONAL.note },
    });
    for (const status of ['CONTACTED', 'QUALIFIED']) await rep(`mutation($id: ID!, $s: LeadStatus!) { changeLeadStatus(id: $id, status: $s) { status } }`, { id: lead.createLead.id, s: status });
    const converted = await rep(`mutation($id: ID!) { convertLead(id: $id, input: {}) { customerId } }`, { id: lead.createLead.id });
    const customerId = converted.convertLead.customerId as string;
    await eventually(async () => (await raw(repToken!)(`query($id: ID!) { customer(id: $id) { id } }`, { id: customerId })).data?.customer, 20_000);

    // Customers: the full record and an activity.
    await rep(`mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id } }`, {
      id: customerId,
      input: { identityDocument: { type: 'PRC_RESIDENT_ID', number: PERSONAL.identity }, birthday: '1988-03-08', address: { country: 'CN', province: '北京', city: '北京', street: PERSONAL.street }, notes: PERSONAL.note },
    });
    await rep(`mutation($input: LogActivityInput!) { logActivity(input: $input) { id } }`, { input: { customerId, type: 'VISIT', subject: PERSONAL.activity } });

    // Service desk: a ticket, and a conversation from the person's own self-service account.
    await asUser(agentToken!)(`mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }`, { input: { customerId, subject: PERSONAL.ticket, description: PERSONAL.note, type: 'COMPLAINT' } });
    const username = `portal.${tag}`;
    const account = await admin(`mutation($input: CreateUserAccountInput!) { createUserAccount(input: $input) { id } }`, { input: { username, email: `${username}@portal.example`, firstName: 'Xue', lastName: tag, roles: ['CUSTOMER'] } });
    const portalUserId = account.createUserAccount.id as string;
    await userSetsPassword(infra, portalUserId, 'Secret-Passw0rd!z');
    const headers = { authorization: `Bearer ${await adminServiceToken(infra)}` };
    const userUrl = `${infra.keycloakUrl}/admin/realms/${infra.realm}/users/${portalUserId}`;
    await asUser(managerToken!)(`mutation($id: ID!, $user: ID) { linkCustomerAccount(customerId: $id, userId: $user) { id } }`, { id: customerId, user: portalUserId });
    const portalToken = await login(infra, username, 'Secret-Passw0rd!z');
    const portal = asUser(portalToken);
    // The service desk learns of the link from customer.updated, moments later.
    await eventually(async () => !(await raw(portalToken)(`mutation($input: StartConversationInput!) { startConversation(input: $input) { id } }`, { input: { question: PERSONAL.question } })).errors, 30_000, 500);
    expect((await portal(`{ myCustomerProfile { id } }`)).myCustomerProfile.id).toBe(customerId);

    // Marketing and analytics have their copies (from customer.*).
    await eventually(async () => {
      const everything = await everyDatabase();
      return everything.includes(`${platform.subgraphs.marketing!.db}.customer_profiles`) && everything.split('\n').filter((part) => part.includes(PERSONAL.name)).length >= 4;
    }, 30_000, 500);

    // The erasure, by an admin through the gateway.
    expect((await raw(repToken!)(`mutation($id: ID!) { eraseCustomer(id: $id, reason: "request") { id } }`, { id: customerId })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const erased = await admin(`mutation($id: ID!) { eraseCustomer(id: $id, reason: "PIPL art. 47 request, ticket 2026-1207") { id name erasedAt } }`, { id: customerId });
    expect(erased.eraseCustomer).toMatchObject({ id: customerId, name: 'Erased customer' });

    // Nothing of the person is left in any database.
    const leftovers = await eventually(
      async () => {
        const everything = await everyDatabase();
        const found = Object.entries(PERSONAL).filter(([, value]) => everything.includes(value)).map(([what]) => what);
        return found.length === 0 ? everything : undefined;
      },
      60_000,
      1000,
    ).catch(async () => {
      const everything = await everyDatabase();
      return Object.entries(PERSONAL)
        .filter(([, value]) => everything.includes(value))
        .map(([what, value]) => `${what}: ${everything.split('\n').filter((part) => part.includes(value)).map((part) => part.split(' ')[0]).join(', ')}`)
        .join('\n');
    });
    expect(leftovers).not.toMatch(/^[a-z]+: /m);

    // The ids and figures remain: the customer, the ticket and the lead still count.
    expect((await admin(`query($id: ID!) { customer(id: $id) { id lifecycleStage tickets { status } } }`, { id: customerId })).customer.tickets).toHaveLength(1);
    // The self-service account is gone from Keycloak.
    await eventually(async () => (await fetch(userUrl, { headers })).status === 404, 30_000, 500);

    // Kafka keeps its history, but no personal value ever entered it in the clear (sealed with the
    // person's own key), and the keys are gone: the sealed copies can no longer be opened by anyone.
    const topics = await everyTopic();
    expect(topicsHolding(topics, Object.values(PERSONAL))).toEqual({});
    const sealedCopies = [...(topics.customer ?? []), ...(topics.lead ?? [])].map((m) => m.event).filter((e) => (e.subject === customerId || e.subject === lead.createLead.id) && (e.data as { sealed?: unknown }).sealed);
    expect(new Set(sealedCopies.map((e) => e.type))).toEqual(new Set(['customer.created', 'customer.updated', 'lead.created', 'lead.updated', 'lead.qualified', 'lead.converted']));
    const owner = (name: string) => platform.subgraphs[name]!.url.replace(/\/graphql$/, '');
    const reader = new PersonalDataOpener({
      sources: { customer: owner('customers'), lead: owner('sales') },
      secret: platform.personalDataSecret,
      logger: createLogger({ service: 'erasure-e2e', level: 'silent' }),
      retryForMs: 5000,
    });
    for (const opened of await reader.openAll(sealedCopies)) {
      const data = opened.data as { name: string; birthday?: unknown; city?: unknown; contact?: unknown; notes?: unknown };
      expect(data.name, opened.type).toMatch(/^(Erased customer|\[erased\])$/);
      for (const field of ['birthday', 'city', 'contact', 'notes'] as const) if (field in data) expect(data[field], `${opened.type} ${field}`).toBeNull();
    }
  }, 240_000);
});
