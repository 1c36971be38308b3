import { afterAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { login, testInfra, watchTopic } from '@crm/testing';
import { startTestCustomers } from './helpers.js';

const infra = await testInfra();
const { running, rawEnv, call, opened } = await startTestCustomers(infra);
const users = ['sales.rep', 'sales.rep2', 'sales.manager', 'marketer', 'analyst', 'customer', 'admin', 'service.agent'] as const;
const tokens = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await login(infra, u)] as const))) as Record<(typeof users)[number], string>;
const watcher = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.customer`);
const customers = () => running.deps.connection.collection('customers');

afterAll(async () => {
  await watcher.stop();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const FIELDS = 'id name gender birthday email phones { number kind } identityDocument { type number masked } address { country province city street } organization source tags level lifecycleStage notes ownerId department version deletedAt createdAt';
const create = (input: Record<string, unknown>, as: keyof typeof tokens = 'sales.rep') =>
  call(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { ${FIELDS} } }`, { input }, tokens[as]);
const update = (id: string, input: Record<string, unknown>, as: keyof typeof tokens = 'sales.rep', expectedVersion?: number) =>
  call(`mutation($id: ID!, $input: UpdateCustomerInput!, $v: Int) { updateCustomer(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`, { id, input, v: expectedVersion }, tokens[as]);
const get = (id: string, as: keyof typeof tokens) => call(`query($id: ID!) { customer(id: $id) { ${FIELDS} } }`, { id }, tokens[as]);
const search = (args: Record<string, unknown>, as: keyof typeof tokens = 'sales.rep') =>
  call(
    `query($filter: CustomerFilter, $search: String, $orderBy: CustomerOrderBy, $first: Int, $after: String) { customers(filter: $filter, search: $search, orderBy: $orderBy, first: $first, after: $after) { totalCount totalCountIsExact edges { node { name } } pageInfo { hasNextPage endCursor } } }`,
    args,
    tokens[as],
  );
const names = (result: { data?: any }) => result.data!.customers.edges.map((e: any) => e.node.name);

let zhang: any;

describe('customer profile (CUS-1) and sensitive data (CUS-7)', () => {
  it('creates a full profile: normalised phones, encrypted identity number, owner department and teams', async () => {
    const result = await create({
      name: '张三',
      gender: 'MALE',
      birthday: '1949-12-31',
      email: 'Zhang.San@Example.cn',
      phones: [{ number: '138 0013 8000' }, { number: '+86 10 6275 1234', kind: 'WORK' }],
      identityDocument: { type: 'PRC_RESIDENT_ID', number: '11010519491231002x' },
      address: { country: 'cn', province: '北京', city: '北京', street: '海淀区清华园1号' },
      organization: '清华大学',
      source: 'trade show',
      tags: ['edu', 'vip'],
      level: 'A',
    });
    expect(result.errors).toBeUndefined();
    zhang = result.data!.createCustomer;
    expect(zhang).toMatchObject({
      name: '张三',
      email: 'zhang.san@example.cn',
      phones: [{ number: '+8613800138000', kind: 'MOBILE' }, { number: '+861062751234', kind: 'WORK' }],
      identityDocument: { type: 'PRC_RESIDENT_ID', number: '********002X', masked: true },
      address: { country: 'CN', province: '北京' },
      lifecycleStage: 'LEAD',
      department: 'sales',
      version: 1,
      deletedAt: null,
    });
    const stored = await customers().findOne({ name: '张三' });
    expect(JSON.stringify(stored)).not.toContain('11010519491231002X');
    expect(stored!.ownerTeams).toEqual(['sales-east']);
  });

  it('shows the identity number in clear to sales managers and admins only', async () => {
    expect((await get(zhang.id, 'sales.manager')).data!.customer.identityDocument).toEqual({ type: 'PRC_RESIDENT_ID', number: '11010519491231002X', masked: false });
    expect((await get(zhang.id, 'admin')).data!.customer.identityDocument.masked).toBe(false);
    expect((await get(zhang.id, 'marketer')).data!.customer.identityDocument.number).toBe('********002X');
  });

  it('publishes customer.created without contact details or the identity number', async () => {
    const { event, key } = await watcher.find((e) => e.subject === zhang.id && e.type === 'customer.created');
    expect(key).toBe(zhang.id);
    // The name and address travel sealed with the person's own key (SYS-6); opened, they are the customer's.
    expect(event.data).toMatchObject({ customerId: zhang.id, department: 'sales', version: 1, sealed: { fields: expect.arrayContaining(['name', 'country']) } });
    expect(JSON.stringify(event)).not.toContain('张三');
    expect((await opened(event)).data).toMatchObject({ customerId: zhang.id, name: '张三', country: 'CN', department: 'sales', version: 1 });
    const payload = JSON.stringify(event);
    for (const secret of ['11010519491231002X', '002X', 'zhang.san@example.cn', '13800138000']) expect(payload).not.toContain(secret);
  });

  it('rejects bad input field by field and writes nothing', async () => {
    const before = await customers().countDocuments();
    const result = await create({ name: ' ', email: 'nope', phones: [{ number: '12' }], birthday: '2999-01-01', identityDocument: { type: 'PRC_RESIDENT_ID', number: '110105194912310021' }, address: { country: 'China' } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CUSTOMER_INVALID_INPUT' });
    expect((result.errors![0]!.extensions!.fields as Array<{ field: string }>).map((f) => f.field).sort()).toEqual([
      'input.address.country',
      'input.birthday',
      'input.email',
      'input.identityDocument.number',
      'input.name',
      'input.phones.0.number',
    ]);
    const badDate = await create({ name: 'x', birthday: '2001-02-29' });
    expect(badDate.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await customers().countDocuments()).toBe(before);
  });

  it('enforces lifecycle transitions and optimistic versions', async () => {
    const toCustomer = await update(zhang.id, { lifecycleStage: 'CUSTOMER' });
    expect(toCustomer.data!.updateCustomer).toMatchObject({ lifecycleStage: 'CUSTOMER', version: 2 });
    const backToLead = await update(zhang.id, { lifecycleStage: 'LEAD' });
    expect(backToLead.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CUSTOMER_STAGE_TRANSITION', fields: [{ field: 'input.lifecycleStage' }] });
    const stale = await update(zhang.id, { notes: 'x' }, 'sales.rep', 1);
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CUSTOMER_VERSION_CONFLICT' });
    const noName = await update(zhang.id, { name: null });
    expect(noName.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.name' }] });
    const cleared = await update(zhang.id, { notes: 'VIP treatment', level: null, phones: [{ number: '13912345678' }] }, 'sales.rep', 2);
    expect(cleared.data!.updateCustomer).toMatchObject({ notes: 'VIP treatment', level: null, phones: [{ number: '+8613912345678' }], version: 3 });
    const { event } = await watcher.find((e) => e.subject === zhang.id && e.type === 'customer.updated' && e.data.version === 3);
    expect(event.data.changed.sort()).toEqual(['level', 'notes', 'phones']);
    // Search keys follow the new phone number.
    expect(names(await search({ search: '1234567' }))).toEqual(['张三']);
    expect(names(await search({ search: '00138000' }))).toEqual([]);
  });
});

describe('visibility by role, department and team (CUS-7)', () => {
  let managers: any;
  let rep2s: any;
  it('sales reps see their own and their team’s customers; managers their department; admins everything', async () => {
    rep2s = (await create({ name: 'Team Mate Customer' }, 'sales.rep2')).data!.createCustomer;
    managers = (await create({ name: 'Manager Customer' }, 'sales.manager')).data!.createCustomer;
    const adminOnly = (await create({ name: 'Admin Customer' }, 'admin')).data!.createCustomer;
    expect((await get(rep2s.id, 'sales.rep')).data!.customer?.name).toBe('Team Mate Customer');
    expect((await get(managers.id, 'sales.rep')).data!.customer).toBeNull();
    expect((await get(managers.id, 'sales.manager')).data!.customer?.name).toBe('Manager Customer');
    expect((await get(adminOnly.id, 'sales.manager')).data!.customer).toBeNull();
    expect((await get(adminOnly.id, 'admin')).data!.customer?.name).toBe('Admin Customer');
    expect((await get(adminOnly.id, 'service.agent')).data!.customer?.name).toBe('Admin Customer');
    expect((await search({ first: 50 }, 'customer')).data!.customers.totalCount).toBe(0);
  });

  it('read-only roles and outsiders cannot change customers', async () => {
    expect((await update(zhang.id, { notes: 'x' }, 'marketer')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await update(managers.id, { notes: 'x' }, 'sales.rep')).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await create({ name: 'x' }, 'analyst')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await update(rep2s.id, { tags: ['shared'] }, 'sales.rep')).data!.updateCustomer.version).toBe(2);
  });

  it('applies the same rules to entity references from other subgraphs', async () => {
    const refs = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name } } }`, {
      r: [{ __typename: 'Customer', id: zhang.id }, { __typename: 'Customer', id: managers.id }],
    }, tokens['sales.rep']);
    expect(refs.data!._entities[0]).toEqual({ id: zhang.id, name: '张三' });
    expect(refs.data!._entities[1]).toBeNull();
    expect(refs.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('search, filters and order (CUS-3)', () => {
  it('finds by Chinese substring, pinyin, initials, phone digits, email and organisation', async () => {
    await create({ name: '李四', organization: '北京大学', phones: [{ number: '13700001111' }], address: { country: 'CN', city: '上海' }, tags: ['edu'] });
    for (const term of ['张', '张三', 'zhangsan', 'zs', '12345', 'zhang.san', '清华', 'qinghua']) {
      expect({ term, names: names(await search({ search: term })) }).toEqual({ term, names: ['张三'] });
    }
    expect(names(await search({ search: 'lisi' }))).toEqual(['李四']);
    expect(names(await search({ search: 'zhang qinghua' }))).toEqual(['张三']);
    expect(names(await search({ search: 'nobody-like-this' }))).toEqual([]);
  });

  it('filters, sorts by pinyin name and pages with stable cursors', async () => {
    expect(names(await search({ filter: { tags: ['edu'], city: '上海' } }))).toEqual(['李四']);
    expect(names(await search({ filter: { lifecycleStages: ['CUSTOMER'] } }))).toEqual(['张三']);
    const byName = await search({ orderBy: 'NAME_ASC', first: 2 });
    // The rep's view: its own, its team's; not the manager's or the admin's.
    expect(byName.data!.customers).toMatchObject({ totalCount: 3, totalCountIsExact: true });
    expect(names(byName)).toEqual(['李四', 'Team Mate Customer']);
    const next = await search({ orderBy: 'NAME_ASC', first: 2, after: byName.data!.customers.pageInfo.endCursor });
    expect(names(next)).toEqual(['张三']);
    const wrongOrder = await search({ orderBy: 'CREATED_DESC', after: byName.data!.customers.pageInfo.endCursor });
    expect(wrongOrder.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'after' }] });
    expect((await search({ first: 101 })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await search({ filter: { country: 'China' } })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'filter.country' }] });
  });
});

describe('soft delete and restore', () => {
  it('hides a deleted customer everywhere until it is restored', async () => {
    const deleted = await call(`mutation($id: ID!) { deleteCustomer(id: $id) { id deletedAt version } }`, { id: zhang.id }, tokens['sales.rep']);
    expect(deleted.data!.deleteCustomer.deletedAt).toMatch(/Z$/);
    expect((await get(zhang.id, 'sales.rep')).data!.customer).toBeNull();
    expect(names(await search({ search: 'zhangsan' }))).toEqual([]);
    expect(names(await search({ filter: { deleted: true } }))).toEqual(['张三']);
    const restored = await call(`mutation($id: ID!) { restoreCustomer(id: $id) { id deletedAt } }`, { id: zhang.id }, tokens['sales.rep']);
    expect(restored.data!.restoreCustomer.deletedAt).toBeNull();
    const again = await call(`mutation($id: ID!) { restoreCustomer(id: $id) { id } }`, { id: zhang.id }, tokens['sales.rep']);
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CUSTOMER_NOT_DELETED' });
    const types = (await Promise.all(['customer.deleted', 'customer.restored'].map((type) => watcher.find((e) => e.subject === zhang.id && e.type === type)))).map((w) => w.event.type);
    expect(types).toEqual(['customer.deleted', 'customer.restored']);
  });
});

describe('duplicates and merge (CUS-6)', () => {
  it('finds likely duplicates on create, merges with per-field choices, and keeps the old id resolving', async () => {
    const a = (await create({ name: '王五', email: 'wangwu@example.cn', phones: [{ number: '13655556666' }], organization: '复旦大学', tags: ['a'] })).data!.createCustomer;
    const created = await call(
      `mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id possibleDuplicates { customer { id } reasons } } }`,
      { input: { name: 'Wang Wu', email: 'wu.wang@example.cn', phones: [{ number: '+86 136 5555 6666' }], organization: '复旦大学', tags: ['b'] } },
      tokens['sales.rep'],
    );
    const b = created.data!.createCustomer;
    expect(b.possibleDuplicates).toEqual([{ customer: { id: a.id }, reasons: ['SAME_PHONE', 'SIMILAR_NAME_SAME_ORGANIZATION'] }]);
    const listed = await call(`query($id: ID!) { duplicateCandidates(customerId: $id) { customer { id } reasons } }`, { id: a.id }, tokens['sales.rep']);
    expect(listed.data!.duplicateCandidates).toEqual([{ customer: { id: b.id }, reasons: ['SAME_PHONE', 'SIMILAR_NAME_SAME_ORGANIZATION'] }]);

    const MERGE = `mutation($s: ID!, $m: ID!, $c: MergeChoices) { mergeCustomers(survivorId: $s, mergedId: $m, choose: $c) { id name email tags version } }`;
    const merged = await call(MERGE, { s: a.id, m: b.id, c: { name: 'MERGED' } }, tokens['sales.rep']);
    expect(merged.errors).toBeUndefined();
    expect(merged.data!.mergeCustomers).toMatchObject({ id: a.id, name: 'Wang Wu', email: 'wangwu@example.cn', tags: ['a', 'b'], version: 2 });
    // The merged-away id resolves to the survivor, for readers and for other subgraphs' references.
    expect((await get(b.id, 'sales.rep')).data!.customer).toMatchObject({ id: a.id, name: 'Wang Wu' });
    const { event } = await watcher.find((e) => e.type === 'customer.merged' && e.subject === a.id);
    expect(event.data).toMatchObject({ survivorId: a.id, mergedId: b.id });
    expect(names(await search({ search: 'wangwu' }))).toEqual(['Wang Wu']);
    // Retrying the same merge changes nothing.
    expect((await call(MERGE, { s: a.id, m: b.id }, tokens['sales.rep'])).data!.mergeCustomers.version).toBe(2);
    const self = await call(MERGE, { s: a.id, m: a.id }, tokens['sales.rep']);
    expect(self.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'mergedId' }] });
    const outsider = await call(MERGE, { s: a.id, m: b.id }, tokens['marketer']);
    expect(outsider.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('organisations and groups (CUS-2)', () => {
  it('links customers to an organisation entity and lists them by it', async () => {
    const org = await call(`mutation { createOrganization(input: { name: "上海交通大学", kind: SCHOOL, country: "cn", city: "上海" }) { id name kind country } }`, {}, tokens['sales.rep']);
    expect(org.data!.createOrganization).toMatchObject({ name: '上海交通大学', kind: 'SCHOOL', country: 'CN' });
    const orgId = org.data!.createOrganization.id;
    const again = await call(`mutation { createOrganization(input: { name: "上海交通大学 ", kind: SCHOOL }) { id } }`, {}, tokens['sales.rep']);
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', fields: [{ field: 'input.name' }] });
    const student = await call(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id organization organizationRef { id name } } }`, { input: { name: '赵六', organizationId: orgId } }, tokens['sales.rep']);
    expect(student.data!.createCustomer).toMatchObject({ organization: '上海交通大学', organizationRef: { id: orgId, name: '上海交通大学' } });
    const unknown = await create({ name: 'x', organizationId: '6740a1b2c3d4e5f601234567' });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', fields: [{ field: 'input.organizationId' }] });
    const members = await call(`query($id: ID!) { organization(id: $id) { customers { totalCount edges { node { name } } } } }`, { id: orgId }, tokens['sales.rep']);
    expect(members.data!.organization.customers).toMatchObject({ totalCount: 1, edges: [{ node: { name: '赵六' } }] });
    const found = await call(`{ organizations(search: "shangHai jiao") { edges { node { name } } } }`, {}, tokens['sales.rep']);
    expect(found.data!.organizations.edges).toEqual([{ node: { name: '上海交通大学' } }]);
  });

  it('puts customers in many manual groups and filters by group', async () => {
    const GROUP = `mutation($name: String!) { createCustomerGroup(input: { name: $name }) { id name } }`;
    const vip = (await call(GROUP, { name: 'Key accounts' }, tokens['sales.rep'])).data!.createCustomerGroup;
    const alumni = (await call(GROUP, { name: 'Alumni' }, tokens['sales.rep'])).data!.createCustomerGroup;
    expect((await call(GROUP, { name: 'key ACCOUNTS' }, tokens['sales.rep'])).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const ADD = `mutation($g: ID!, $ids: [ID!]!) { addCustomersToGroup(groupId: $g, customerIds: $ids) { id } }`;
    expect((await call(ADD, { g: vip.id, ids: [zhang.id] }, tokens['sales.rep'])).errors).toBeUndefined();
    expect((await call(ADD, { g: alumni.id, ids: [zhang.id] }, tokens['sales.rep'])).errors).toBeUndefined();
    expect((await get(zhang.id, 'sales.rep')).data!.customer).toBeDefined();
    const groups = await call(`query($id: ID!) { customer(id: $id) { groups { name } } }`, { id: zhang.id }, tokens['sales.rep']);
    expect(groups.data!.customer.groups.map((g: any) => g.name).sort()).toEqual(['Alumni', 'Key accounts']);
    expect(names(await search({ filter: { groupId: vip.id } }))).toEqual(['张三']);
    const inGroup = await call(`query($id: ID!) { customerGroup(id: $id) { customers { totalCount } } }`, { id: alumni.id }, tokens['sales.rep']);
    expect(inGroup.data!.customerGroup.customers.totalCount).toBe(1);
    await call(`mutation($g: ID!, $ids: [ID!]!) { removeCustomersFromGroup(groupId: $g, customerIds: $ids) { id } }`, { g: vip.id, ids: [zhang.id] }, tokens['sales.rep']);
    expect(names(await search({ filter: { groupId: vip.id } }))).toEqual([]);
    expect((await call(ADD, { g: vip.id, ids: [zhang.id] }, tokens['marketer'])).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(ADD, { g: vip.id, ids: ['nope'] }, tokens['sales.rep'])).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'customerIds.0' }] });
  });
});

describe("customers' own voice (CUS-8)", () => {
  it('a linked customer account reads its own record, rates products, follows them; staff see it all', async () => {
    const feedbackTopic = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.feedback`);
    const customerUserId = JSON.parse(Buffer.from(tokens.customer.split('.')[1]!, 'base64url').toString()).sub as string;
    const unlinked = await call(`{ myCustomerProfile { id } }`, {}, tokens.customer);
    expect(unlinked.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const LINK = `mutation($c: ID!, $u: ID) { linkCustomerAccount(customerId: $c, userId: $u) { id hasPortalAccount } }`;
    expect((await call(LINK, { c: zhang.id, u: customerUserId }, tokens['sales.rep'])).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(LINK, { c: zhang.id, u: customerUserId }, tokens['sales.manager'])).data!.linkCustomerAccount.hasPortalAccount).toBe(true);

    const own = await call(`{ myCustomerProfile { id name identityDocument { masked } } }`, {}, tokens.customer);
    expect(own.data!.myCustomerProfile).toEqual({ id: zhang.id, name: '张三', identityDocument: { masked: true } });
    expect((await search({ first: 50 }, 'customer')).data!.customers.totalCount).toBe(1);

    const productId = '6740a1b2c3d4e5f6000000aa';
    const FEEDBACK = `mutation($input: SubmitFeedbackInput!) { submitFeedback(input: $input) { id rating feature product { id } authorId } }`;
    const rated = await call(FEEDBACK, { input: { productId, feature: 'export', rating: 5, comment: '很好用' } }, tokens.customer);
    expect(rated.data!.submitFeedback).toMatchObject({ rating: 5, feature: 'export', product: { id: productId }, authorId: customerUserId });
    const bad = await call(FEEDBACK, { input: { productId: 'x', rating: 6 } }, tokens.customer);
    expect((bad.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field).sort()).toEqual(['input.productId', 'input.rating']);
    const staffWithoutCustomer = await call(FEEDBACK, { input: { productId, rating: 3 } }, tokens['sales.rep']);
    expect(staffWithoutCustomer.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.customerId' }] });
    expect((await call(`mutation($p: ID!) { followProduct(productId: $p) { followedProducts { id } } }`, { p: productId }, tokens.customer)).data!.followProduct.followedProducts).toEqual([{ id: productId }]);

    const staffView = await call(`query($id: ID!) { customer(id: $id) { feedback { totalCount edges { node { rating comment } } } followedProducts { id } } }`, { id: zhang.id }, tokens['sales.rep']);
    expect(staffView.data!.customer).toEqual({ feedback: { totalCount: 1, edges: [{ node: { rating: 5, comment: '很好用' } }] }, followedProducts: [{ id: productId }] });
    const { event, key } = await feedbackTopic.find((e) => e.type === 'feedback.submitted' && e.data.feedbackId === rated.data!.submitFeedback.id);
    expect(key).toBe(zhang.id);
    expect(event.data).toMatchObject({ customerId: zhang.id, productId, rating: 5 });
    await feedbackTopic.stop();
    // Unlink again so later tests see the customer account as unlinked.
    await call(LINK, { c: zhang.id, u: null }, tokens['sales.manager']);
  });
});

describe('gateway-only access and health', () => {
  it('refuses callers without the gateway secret or a valid token, and reports ready', async () => {
    const noSecret = await call(`{ customers { totalCount } }`, {}, tokens['sales.rep'], null);
    expect(noSecret.status).toBe(403);
    const noToken = await call(`{ customers { totalCount } }`, {}, null);
    expect(noToken.status).toBe(401);
    expect(noToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const ready = await fetch(running.url.replace(/\/graphql$/, '/readyz'));
    expect(await ready.json()).toMatchObject({ ready: true, checks: { mongo: true, kafka: true, accepting: true } });
  });
});

describe('outbox writes on FerretDB v1', () => {
  it('a change made right after creation survives the relay removing the creation event, and its event is published', async () => {
    // FerretDB v1 rewrites the whole document on update: unserialised, the relay's removal of the
    // published customer.created undid a concurrent change (the e2e's account link vanished this way).
    const ids: string[] = [];
    for (let round = 0; round < 25; round += 1) {
      const created = (await create({ name: `Race ${round}` })).data!.createCustomer;
      const updated = await update(created.id, { tags: ['raced'] });
      expect(updated.errors).toBeUndefined();
      ids.push(created.id);
    }
    const stored = await customers().find({ _id: { $in: ids.map((id) => new Types.ObjectId(id)) } }).toArray();
    expect(stored.filter((doc) => doc.version !== 2 || !doc.tags.includes('raced')).map((doc) => doc._id.toHexString())).toEqual([]);
    for (const id of ids) await watcher.find((event) => event.type === 'customer.updated' && event.subject === id, 15_000);
  });
});
