import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuthUser } from '@crm/auth';
import { parseEnv } from '@crm/env';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic } from '@crm/testing';
import { startSales } from '../../../app.js';
import { salesEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'sales');
const running = await startSales(parseEnv(salesEnvSchema, rawEnv));
const [adminToken, managerToken, repToken, rep2Token, analystToken, marketerToken] = await Promise.all([
  login(infra, 'admin'),
  login(infra, 'sales.manager'),
  login(infra, 'sales.rep'),
  login(infra, 'sales.rep2'),
  login(infra, 'analyst'),
  login(infra, 'marketer'),
]);
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = repToken) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));
const expenses = () => running.deps.connection.collection('expenses');
const watcher = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.expense`);

afterAll(async () => {
  await watcher.stop();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const FIELDS = 'id subject amount { amountMinor currency } date customerId customer { id } visibility notes ownerId ownerName department canChange version createdAt updatedAt';
const RECORD = `mutation($input: RecordExpenseInput!) { recordExpense(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateExpenseInput!, $v: Int) { updateExpense(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;
const DELETE = `mutation($id: ID!, $v: Int) { deleteExpense(id: $id, expectedVersion: $v) { id version } }`;
const DELETE_MANY = `mutation($filter: ExpenseFilter, $search: String, $fields: [ExpenseSearchField!]) { deleteExpenses(filter: $filter, search: $search, searchFields: $fields) { matched deleted notPermitted hasMore } }`;
const LIST = `query($filter: ExpenseFilter, $search: String, $fields: [ExpenseSearchField!], $first: Int, $after: String) {
  expenses(filter: $filter, search: $search, searchFields: $fields, first: $first, after: $after) { totalCount edges { node { id subject } } pageInfo { hasNextPage endCursor } } }`;
const CUSTOMER_EXPENSES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id expenses(first: 50) { totalCount edges { node { subject customer { id } } } } } } }`;

const newCustomerId = () => randomBytes(12).toString('hex');
const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });
const fieldsOf = (result: any) => (result.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field).sort();

async function record(input: Record<string, unknown>, token = repToken) {
  const result = await call(RECORD, { input: { amount: cny(10_000), date: '2026-03-01', ...input } }, token);
  expect(result.errors).toBeUndefined();
  return result.data!.recordExpense;
}
async function subjectsOf(customerId: string, token: string) {
  const result = await call(LIST, { filter: { customerId }, first: 100 }, token);
  expect(result.errors).toBeUndefined();
  return result.data!.expenses.edges.map((e: any) => e.node.subject).sort();
}

describe('sales subgraph: expenses (SAL-7, real Mongo, Kafka, Keycloak)', () => {
  it('records an expense on a customer, private by default, and publishes expense.recorded', async () => {
    const customerId = newCustomerId();
    const expense = await record({ subject: '  Dinner with the buyer ', amount: cny(129_950), date: '2026-02-14', customerId, notes: 'Hotpot, 4 people' });
    expect(expense).toMatchObject({
      subject: 'Dinner with the buyer',
      amount: cny(129_950),
      date: '2026-02-14',
      customerId,
      customer: { id: customerId },
      visibility: 'PRIVATE',
      notes: 'Hotpot, 4 people',
      department: 'sales',
      canChange: true,
      version: 1,
    });
    expect(expense.ownerName).toBeTruthy();
    const { key, event } = await watcher.find((e) => e.subject === expense.id, 15_000);
    expect(key).toBe(expense.id);
    expect(event).toMatchObject({
      type: 'expense.recorded',
      source: '/crm/sales',
      data: { expenseId: expense.id, customerId, subject: 'Dinner with the buyer', amount: cny(129_950), date: '2026-02-14', visibility: 'PRIVATE', ownerId: expense.ownerId, version: 1 },
    });
    // Customer.expenses through the entity the gateway would resolve.
    const entity = await call(CUSTOMER_EXPENSES, { r: [{ __typename: 'Customer', id: customerId }] });
    expect(entity.errors).toBeUndefined();
    expect(entity.data!._entities[0].expenses).toEqual({ totalCount: 1, edges: [{ node: { subject: 'Dinner with the buyer', customer: { id: customerId } } }] });
  });

  it('rejects bad input field by field and wrong roles, storing nothing', async () => {
    const before = await expenses().countDocuments();
    const bad = await call(RECORD, { input: { subject: ' ', amount: { amountMinor: -5, currency: 'cny' }, date: '2999-01-01', customerId: 'not-an-id', notes: 'x'.repeat(2001) } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'EXPENSE_INVALID_INPUT' });
    expect(fieldsOf(bad)).toEqual(['input.amount.amountMinor', 'input.amount.currency', 'input.customerId', 'input.date', 'input.notes', 'input.subject']);
    const zero = await call(RECORD, { input: { subject: 'Zero', amount: cny(0), date: '2026-01-01', customerId: newCustomerId() } });
    expect(fieldsOf(zero)).toEqual(['input.amount.amountMinor']);
    const badDay = await call(RECORD, { input: { subject: 'Day', amount: cny(1), date: '2026-02-30', customerId: newCustomerId() } });
    expect(badDay.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    for (const token of [marketerToken, analystToken]) {
      const denied = await call(RECORD, { input: { subject: 'No', amount: cny(1), date: '2026-01-01', customerId: newCustomerId() } }, token);
      expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'EXPENSE_FORBIDDEN' });
    }
    expect((await call(LIST, {}, marketerToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await expenses().countDocuments()).toBe(before);
  });

  it('shows each caller its own expenses and the public ones it may see; private ones only to the owner and admins', async () => {
    const customerId = newCustomerId();
    await record({ subject: 'rep private', customerId });
    await record({ subject: 'rep public', customerId, visibility: 'PUBLIC' });
    await record({ subject: 'rep2 private', customerId }, rep2Token);
    await record({ subject: 'rep2 public', customerId, visibility: 'PUBLIC' }, rep2Token);
    await record({ subject: 'manager public', customerId, visibility: 'PUBLIC' }, managerToken);
    await record({ subject: 'manager private', customerId }, managerToken);

    // Both demo reps are in team sales-east: each sees the other's public expenses.
    expect(await subjectsOf(customerId, repToken)).toEqual(['rep private', 'rep public', 'rep2 public']);
    expect(await subjectsOf(customerId, rep2Token)).toEqual(['rep public', 'rep2 private', 'rep2 public']);
    expect(await subjectsOf(customerId, managerToken)).toEqual(['manager private', 'manager public', 'rep public', 'rep2 public']);
    expect(await subjectsOf(customerId, analystToken)).toEqual(['manager public', 'rep public', 'rep2 public']);
    expect(await subjectsOf(customerId, adminToken)).toHaveLength(6);
    // A rep of another team (same department) sees none of theirs; a manager of another department neither.
    const otherTeam: AuthUser = { id: 'rep-of-sales-west', username: 'west', roles: ['sales-rep'], groups: ['sales', 'sales-west'] };
    expect((await running.services.expenses.list({ filter: { customerId }, first: 100 }, otherTeam)).items).toEqual([]);
    const otherManager: AuthUser = { id: 'manager-of-marketing', username: 'mm', roles: ['sales-manager'], groups: ['marketing'] };
    expect((await running.services.expenses.list({ filter: { customerId }, first: 100 }, otherManager)).items).toEqual([]);

    // The same rules on Customer.expenses and single lookups.
    const entity = await call(CUSTOMER_EXPENSES, { r: [{ __typename: 'Customer', id: customerId }] }, analystToken);
    expect(entity.data!._entities[0].expenses.totalCount).toBe(3);
    const repPrivate = (await expenses().findOne({ subject: 'rep private', customerId }))!._id.toHexString();
    expect((await call(`query($id: ID!) { expense(id: $id) { subject } }`, { id: repPrivate }, managerToken)).data!.expense).toBeNull();
    expect((await call(`query($id: ID!) { expense(id: $id) { subject } }`, { id: repPrivate }, adminToken)).data!.expense).toEqual({ subject: 'rep private' });
  });

  it('lets the owner, an admin or the department manager edit (versioned) and delete (soft); nobody else', async () => {
    const customerId = newCustomerId();
    const mine = await record({ subject: 'Taxi to site', customerId, visibility: 'PUBLIC' });
    const edited = await call(UPDATE, { id: mine.id, v: 1, input: { subject: 'Taxi to the site', amount: cny(4_200), notes: 'Receipt 88' } });
    expect(edited.errors).toBeUndefined();
    expect(edited.data!.updateExpense).toMatchObject({ subject: 'Taxi to the site', amount: cny(4_200), notes: 'Receipt 88', version: 2 });
    const { event } = await watcher.find((e) => e.subject === mine.id && e.type === 'expense.updated', 15_000);
    expect(event.data).toMatchObject({ version: 2, subject: 'Taxi to the site' });
    expect(event.data.changed.sort()).toEqual(['amount', 'notes', 'subject']);

    const stale = await call(UPDATE, { id: mine.id, v: 1, input: { subject: 'Lost' } });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'EXPENSE_VERSION_CONFLICT' });
    const nullSubject = await call(UPDATE, { id: mine.id, input: { subject: null, amount: cny(-1) } });
    expect(fieldsOf(nullSubject)).toEqual(['input.amount.amountMinor', 'input.subject']);

    // The manager of the department may change a public one; rep2 (same team) and analysts see it but may not.
    expect((await call(UPDATE, { id: mine.id, input: { notes: null } }, managerToken)).data!.updateExpense).toMatchObject({ notes: null, version: 3, canChange: true });
    expect((await call(UPDATE, { id: mine.id, input: { subject: 'rep2' } }, rep2Token)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'EXPENSE_FORBIDDEN' });
    expect((await call(DELETE, { id: mine.id }, rep2Token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(UPDATE, { id: mine.id, input: { subject: 'analyst' } }, analystToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const asAnalyst = await call(`query($id: ID!) { expense(id: $id) { canChange } }`, { id: mine.id }, analystToken);
    expect(asAnalyst.data!.expense).toEqual({ canChange: false });

    // A private one is the owner's (and admins') alone.
    const secret = await record({ subject: 'Gift', customerId });
    expect((await call(DELETE, { id: secret.id }, managerToken)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await call(DELETE, { id: secret.id, v: 1 }, adminToken)).data!.deleteExpense).toEqual({ id: secret.id, version: 2 });

    const deleted = await call(DELETE, { id: mine.id, v: 3 });
    expect(deleted.data!.deleteExpense).toEqual({ id: mine.id, version: 4 });
    const gone = await watcher.find((e) => e.subject === mine.id && e.type === 'expense.deleted', 15_000);
    expect(gone.event.data).toMatchObject({ expenseId: mine.id, customerId, deletedBy: mine.ownerId });
    // Soft: still stored, gone from every read.
    expect(await expenses().findOne({ subject: 'Taxi to the site' })).toMatchObject({ deletedBy: mine.ownerId, version: 4 });
    expect(await subjectsOf(customerId, adminToken)).toEqual([]);
    expect((await call(DELETE, { id: mine.id })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('lists a customer as a table of the chosen columns and searches chosen fields literally', async () => {
    const customerId = newCustomerId();
    await record({ subject: 'Tea set (gift)', amount: cny(88_800), date: '2026-01-10', customerId, notes: 'For the principal' });
    await record({ subject: 'Train tickets', amount: cny(55_300), date: '2026-01-12', customerId, notes: 'Gift shop receipt lost' });
    await record({ subject: 'Other customer', customerId: newCustomerId() });

    const TABLE = `query($c: ID!, $cols: [ExpenseColumn!]!, $search: String, $fields: [ExpenseSearchField!]) {
      expenseTable(customerId: $c, columns: $cols, search: $search, searchFields: $fields) { columns totalCount rows { id cells } } }`;
    const table = await call(TABLE, { c: customerId, cols: ['DATE', 'SUBJECT', 'AMOUNT', 'CURRENCY', 'NOTES'] });
    expect(table.errors).toBeUndefined();
    expect(table.data!.expenseTable).toMatchObject({
      columns: ['DATE', 'SUBJECT', 'AMOUNT', 'CURRENCY', 'NOTES'],
      totalCount: 2,
      rows: [
        { cells: ['2026-01-12', 'Train tickets', '553.00', 'CNY', 'Gift shop receipt lost'] },
        { cells: ['2026-01-10', 'Tea set (gift)', '888.00', 'CNY', 'For the principal'] },
      ],
    });
    // The same on the Customer entity.
    const viaCustomer = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { expenseTable(columns: [SUBJECT]) { rows { cells } } } } }`, {
      r: [{ __typename: 'Customer', id: customerId }],
    });
    expect(viaCustomer.data!._entities[0].expenseTable.rows).toEqual([{ cells: ['Train tickets'] }, { cells: ['Tea set (gift)'] }]);

    const search = async (text: string, fields?: string[]) =>
      (await call(TABLE, { c: customerId, cols: ['SUBJECT'], search: text, fields })).data!.expenseTable.rows.map((r: any) => r.cells[0]);
    expect(await search('GIFT')).toEqual(['Train tickets', 'Tea set (gift)']);
    expect(await search('gift', ['SUBJECT'])).toEqual(['Tea set (gift)']);
    expect(await search('gift', ['NOTES'])).toEqual(['Train tickets']);
    expect(await search('(gift)')).toEqual(['Tea set (gift)']);
    expect(await search('.*')).toEqual([]);

    const badColumns = await call(TABLE, { c: customerId, cols: ['SUBJECT', 'SUBJECT'] });
    expect(badColumns.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'columns' }] });
    const noColumns = await call(TABLE, { c: customerId, cols: [] });
    expect(noColumns.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badSearch = await call(TABLE, { c: customerId, cols: ['SUBJECT'], search: ' ', fields: [] });
    expect(fieldsOf(badSearch)).toEqual(['search', 'searchFields']);
  });

  it('deletes what a search found in one call, only what the caller may delete', async () => {
    const customerId = newCustomerId();
    await record({ subject: 'Batch lunch A', customerId, visibility: 'PUBLIC' });
    await record({ subject: 'Batch lunch B', customerId, visibility: 'PUBLIC' });
    await record({ subject: 'Batch lunch private', customerId });
    await record({ subject: 'Batch lunch rep2', customerId, visibility: 'PUBLIC' }, rep2Token);
    await record({ subject: 'Batch lunch rep2 private', customerId }, rep2Token);
    await record({ subject: 'Dinner, not lunch', customerId, visibility: 'PUBLIC' });

    // No filter and no search: refused rather than "everything".
    const everything = await call(DELETE_MANY, {}, adminToken);
    expect(everything.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'filter' }] });
    expect((await call(DELETE_MANY, { search: 'batch' }, analystToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // rep2 (same team) sees rep's public ones but deletes only its own; its private one too.
    const byRep2 = await call(DELETE_MANY, { filter: { customerId }, search: 'rep2 private' }, rep2Token);
    expect(byRep2.data!.deleteExpenses).toEqual({ matched: 1, deleted: 1, notPermitted: 0, hasMore: false });
    const sameTeam = await call(DELETE_MANY, { filter: { customerId, visibility: 'PUBLIC' }, search: 'batch lunch A' }, rep2Token);
    expect(sameTeam.data!.deleteExpenses).toEqual({ matched: 1, deleted: 0, notPermitted: 1, hasMore: false });

    // The manager: the public ones of the department match and go; private ones are not even seen.
    const byManager = await call(DELETE_MANY, { filter: { customerId }, search: 'BATCH LUNCH', fields: ['SUBJECT'] }, managerToken);
    expect(byManager.errors).toBeUndefined();
    expect(byManager.data!.deleteExpenses).toEqual({ matched: 3, deleted: 3, notPermitted: 0, hasMore: false });
    expect(await subjectsOf(customerId, adminToken)).toEqual(['Batch lunch private', 'Dinner, not lunch']);

    // The owner deletes their own private one.
    const byRep = await call(DELETE_MANY, { filter: { customerId, visibility: 'PRIVATE' }, search: 'lunch' });
    expect(byRep.data!.deleteExpenses).toEqual({ matched: 1, deleted: 1, notPermitted: 0, hasMore: false });
    expect(await subjectsOf(customerId, adminToken)).toEqual(['Dinner, not lunch']);
    // One expense.deleted per deleted expense.
    await eventually(async () => watcher.seen.filter((w) => w.event.type === 'expense.deleted' && w.event.data.customerId === customerId).length === 5, 15_000);
  });

  it('moves a merged-away customer\'s expenses to the survivor (customer.merged via customer-link), once', async () => {
    expect(running.services.customerLinks.modules).toContain('expenses');
    const [from, to] = [newCustomerId(), newCustomerId()];
    const expense = await record({ subject: 'Before the merge', customerId: from });
    expect(await running.services.customerLinks.repoint(from, to)).toMatchObject({ expenses: 1 });
    expect(await running.services.expenses.repointCustomer(from, to)).toBe(0);
    expect(await subjectsOf(to, repToken)).toEqual(['Before the merge']);
    expect(await subjectsOf(from, repToken)).toEqual([]);
    const { event } = await watcher.find((e) => e.subject === expense.id && e.type === 'expense.updated', 15_000);
    expect(event.data).toMatchObject({ customerId: to, changed: ['customerId'], version: 2 });
  });

  it('pages with cursors, newest day first', async () => {
    const customerId = newCustomerId();
    for (const day of ['2026-01-01', '2026-01-03', '2026-01-02']) await record({ subject: day, date: day, customerId });
    const first = (await call(LIST, { filter: { customerId }, first: 2 })).data!.expenses;
    expect(first.edges.map((e: any) => e.node.subject)).toEqual(['2026-01-03', '2026-01-02']);
    const rest = (await call(LIST, { filter: { customerId }, first: 2, after: first.pageInfo.endCursor })).data!.expenses;
    expect(rest.edges.map((e: any) => e.node.subject)).toEqual(['2026-01-01']);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    const range = (await call(LIST, { filter: { customerId, dateFrom: '2026-01-02', dateTo: '2026-01-02' } })).data!.expenses;
    expect(range.edges.map((e: any) => e.node.subject)).toEqual(['2026-01-02']);
  });
});
