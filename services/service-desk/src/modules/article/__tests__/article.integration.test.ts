import { afterAll, describe, expect, it } from 'vitest';
import { codeOf, fieldsOf, ok, someId, startDeskKit } from './desk-kit.js';

const kit = await startDeskKit(['article']);
const { as, db } = kit;
const [agent, manager, customer, marketer] = [as('service.agent'), as('service.manager'), as('customer'), as('marketer')];
const articleEvents = kit.watchers.article!;

afterAll(() => kit.stop());

const FIELDS = 'id kind title body keywords categories productIds status revision hasUnpublishedChanges version revisions { revision title publishedBy }';
const CREATE = `mutation($input: CreateArticleInput!) { createArticle(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateArticleInput!, $v: Int) { updateArticle(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;
const PUBLISH = `mutation($id: ID!, $v: Int) { publishArticle(id: $id, expectedVersion: $v) { ${FIELDS} } }`;
const ARCHIVE = `mutation($id: ID!) { archiveArticle(id: $id) { id status } }`;
const GET = `query($id: ID!) { article(id: $id) { ${FIELDS} } }`;
const SEARCH = `query($q: String!, $f: ArticleFilter, $n: Int) { searchArticles(query: $q, filter: $f, first: $n) { score article { id title } } }`;
const printer = someId();
const router = someId();

const create = async (input: Record<string, unknown>) => (await ok(agent(CREATE, { input }))).createArticle;
const publish = async (id: string) => (await ok(manager(PUBLISH, { id }))).publishArticle;

describe('knowledge base (SVC-4, real Mongo, Kafka, Keycloak)', () => {
  it('keeps drafts from customers; a service manager publishes revision 1 (article.published), then customers find it in Chinese', async () => {
    const draft = await create({ kind: 'FAQ', title: '打印机卡纸怎么办', body: '先关闭电源，打开后盖，取出卡住的纸张。', keywords: ['卡纸', 'paper jam', 'Paper Jam'], categories: [' 打印 ', 'Printing'], productIds: [printer.toUpperCase()] });
    expect(draft).toMatchObject({ status: 'DRAFT', revision: null, hasUnpublishedChanges: true, version: 1, keywords: ['卡纸', 'paper jam'], categories: ['打印', 'Printing'], productIds: [printer], revisions: [] });
    expect((await ok(customer(GET, { id: draft.id }))).article).toBeNull();
    expect((await ok(customer(SEARCH, { q: '打印机卡纸' }))).searchArticles).toEqual([]);
    expect((await ok(agent(SEARCH, { q: '打印机卡纸' }))).searchArticles.map((m: { article: { id: string } }) => m.article.id)).toEqual([draft.id]);

    // Agents write; publishing is for service managers.
    const byAgent = await agent(PUBLISH, { id: draft.id });
    expect(codeOf(byAgent)).toBe('FORBIDDEN');
    const published = await publish(draft.id);
    expect(published).toMatchObject({ status: 'PUBLISHED', revision: 1, hasUnpublishedChanges: false, version: 2, revisions: [{ revision: 1, title: '打印机卡纸怎么办', publishedBy: kit.ids['service.manager'] }] });
    const { event } = await articleEvents.find((e) => e.subject === draft.id && e.type === 'article.published');
    expect(event.data).toMatchObject({ articleId: draft.id, revision: 1, kind: 'FAQ', title: '打印机卡纸怎么办', productIds: [printer], status: 'PUBLISHED', previousStatus: 'DRAFT', publishedBy: kit.ids['service.manager'] });

    const found = (await ok(customer(SEARCH, { q: '我的打印机又卡纸了' }))).searchArticles;
    expect(found).toHaveLength(1);
    expect(found[0].article.id).toBe(draft.id);
    expect(found[0].score).toBeGreaterThan(0.5);
    expect((await ok(customer(SEARCH, { q: 'paper jams' }))).searchArticles[0].article.id).toBe(draft.id);
    expect((await ok(customer(SEARCH, { q: 'sunflower seeds' }))).searchArticles).toEqual([]);
  });

  it('versions edits: customers keep seeing the published revision until the next publish; older revisions stay readable', async () => {
    const a = await create({ kind: 'SERVICE_PROCEDURE', title: 'Router reset procedure', body: 'Hold the reset button for 10 seconds.', productIds: [router] });
    await publish(a.id);
    const edited = (await ok(agent(UPDATE, { id: a.id, input: { title: 'Router factory reset', body: 'Hold the reset button for 30 seconds.' }, v: 2 }))).updateArticle;
    expect(edited).toMatchObject({ title: 'Router factory reset', status: 'PUBLISHED', revision: 1, hasUnpublishedChanges: true, version: 3 });
    expect((await ok(customer(GET, { id: a.id }))).article).toMatchObject({ title: 'Router reset procedure', body: 'Hold the reset button for 10 seconds.', hasUnpublishedChanges: false, revision: 1 });
    // Customers search what they see: the published words, not the working copy's.
    expect((await ok(customer(SEARCH, { q: 'factory' }))).searchArticles).toEqual([]);

    // A stale version is refused, nothing changes.
    const stale = await agent(UPDATE, { id: a.id, input: { title: 'Lost edit' }, v: 2 });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ARTICLE_VERSION_CONFLICT' });

    const second = await publish(a.id);
    expect(second).toMatchObject({ revision: 2, hasUnpublishedChanges: false, revisions: [{ revision: 2, title: 'Router factory reset' }, { revision: 1, title: 'Router reset procedure' }] });
    expect((await ok(customer(GET, { id: a.id }))).article.title).toBe('Router factory reset');
    expect((await ok(customer(SEARCH, { q: 'factory' }))).searchArticles.map((m: { article: { id: string } }) => m.article.id)).toEqual([a.id]);
    // Nothing new to publish: CONFLICT. An edit back to the published text leaves nothing unpublished.
    expect(codeOf(await manager(PUBLISH, { id: a.id }))).toBe('CONFLICT');
    await ok(agent(UPDATE, { id: a.id, input: { body: 'changed' } }));
    expect((await ok(agent(UPDATE, { id: a.id, input: { body: 'Hold the reset button for 30 seconds.' } }))).updateArticle.hasUnpublishedChanges).toBe(false);
    // Edits publish nothing; each publish one event (delivery is at least once: counted by event id).
    const events = new Map(articleEvents.seen.filter((e) => e.event.subject === a.id).map((e) => [e.event.id, `${e.event.type}:${e.event.data.revision}`]));
    expect([...events.values()]).toEqual(['article.published:1', 'article.published:2']);
  });

  it('filters by kind, category and product; lists categories; archiving hides an article from customers', async () => {
    const kb = await create({ kind: 'PRODUCT_KNOWLEDGE', title: 'Router X200 specifications', body: 'Wi-Fi 6, four antennas.', categories: ['Networking'], productIds: [router] });
    await publish(kb.id);
    const list = async (who: typeof agent, filter: Record<string, unknown>) =>
      (await ok(who(`query($f: ArticleFilter) { articles(filter: $f) { totalCount edges { node { id } } } }`, { f: filter }))).articles.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(await list(customer, { kind: 'PRODUCT_KNOWLEDGE' })).toEqual([kb.id]);
    expect(await list(customer, { category: 'networking' })).toEqual([kb.id]);
    expect((await list(customer, { productId: router })).sort()).toEqual((await list(agent, { productId: router, statuses: ['PUBLISHED'] })).sort());
    expect((await list(customer, { productId: router })).length).toBe(2);
    const categories = (await ok(customer(`{ articleCategories { name articleCount } }`))).articleCategories;
    expect(categories).toEqual(expect.arrayContaining([{ name: 'Networking', articleCount: 1 }, { name: '打印', articleCount: 1 }]));
    const productArticles = await ok(customer(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { articles { id } } } }`, { r: [{ __typename: 'Product', id: router }] }));
    expect(productArticles._entities[0].articles).toHaveLength(2);

    expect((await ok(manager(ARCHIVE, { id: kb.id }))).archiveArticle.status).toBe('ARCHIVED');
    expect((await ok(customer(GET, { id: kb.id }))).article).toBeNull();
    expect(await list(customer, { kind: 'PRODUCT_KNOWLEDGE' })).toEqual([]);
    expect(codeOf(await manager(ARCHIVE, { id: kb.id }))).toBe('CONFLICT');
    const { event } = await articleEvents.find((e) => e.subject === kb.id && e.type === 'article.archived');
    expect(event.data).toMatchObject({ articleId: kb.id, status: 'ARCHIVED', previousStatus: 'PUBLISHED' });
    // Publishing an archived article again is a new revision.
    expect((await publish(kb.id)).revision).toBe(2);
  });

  it('suggests published articles for a ticket from its subject and product, best first', async () => {
    const other = await create({ kind: 'FAQ', title: 'Printer driver install', body: 'Download the driver.', productIds: [printer] });
    await publish(other.id);
    const ticket = (await ok(agent(`mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }`, {
      input: { customerId: kit.customers.customer, subject: 'Router: the reset did not help', type: 'TECHNICAL', productId: router },
    }))).createTicket;
    const suggested = (await ok(agent(`query($id: ID!) { ticket(id: $id) { suggestedArticles(first: 3) { score article { title status } } } }`, { id: ticket.id }))).ticket.suggestedArticles;
    expect(suggested.map((m: { article: { title: string } }) => m.article.title)).toEqual(['Router factory reset', 'Router X200 specifications']);
    expect(suggested[0].score).toBeGreaterThan(suggested[1].score);
    expect(suggested.every((m: { article: { status: string } }) => m.article.status === 'PUBLISHED')).toBe(true);
  });

  it('refuses bad input with field details, writes nothing, and keeps other roles out', async () => {
    const before = await db.collection('articles').countDocuments();
    const bad = await agent(CREATE, { input: { kind: 'FAQ', title: '  ', body: 'x', keywords: Array.from({ length: 31 }, (_, i) => `k${i}`), productIds: ['nope'] } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ARTICLE_INVALID_INPUT' });
    expect(fieldsOf(bad)).toEqual(['input.keywords', 'input.productIds.0', 'input.title']);
    expect(codeOf(await agent(CREATE, { input: { kind: 'WIKI', title: 't', body: 'b' } }))).toBe('BAD_USER_INPUT');
    expect(fieldsOf(await agent(UPDATE, { id: someId(), input: {} }))).toEqual(['input.title']);
    expect(codeOf(await agent(UPDATE, { id: someId(), input: { title: 'x' } }))).toBe('NOT_FOUND');
    expect(fieldsOf(await customer(SEARCH, { q: '  ?! ' }))).toEqual(['query']);
    expect(fieldsOf(await customer(SEARCH, { q: 'router', n: 0 }))).toEqual(['first']);
    expect(codeOf(await customer(CREATE, { input: { kind: 'FAQ', title: 't', body: 'b' } }))).toBe('FORBIDDEN');
    expect(codeOf(await marketer(SEARCH, { q: 'router' }))).toBe('FORBIDDEN');
    expect(await db.collection('articles').countDocuments()).toBe(before);
  });
});
