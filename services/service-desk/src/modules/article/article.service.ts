import { Types } from 'mongoose';
import { z } from 'zod';
import { hasAnyRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { AggregateWriter, type OutboxRelay } from '@crm/events';
import { paginate, type Page, type PageArgs } from '@crm/mongo';
import { isCustomerCaller } from '../ticket/ticket.service.js';
import { ArticleException } from './article.errors.js';
import { articleEvent, ArticleEventType } from './article.events.js';
import { ARTICLE_KINDS, ARTICLE_STATUSES, type ArticleContent, type ArticleModel, type ArticleRecord, type ArticleRevision, type ArticleStatus, type PublishedArticle } from './article.model.js';
import { score, termSet, terms } from './article.search.js';

const OBJECT_ID = /^[0-9a-f]{24}$/i;
/** Roles that read every article, drafts included (admins pass every role check). */
const STAFF_READERS = [Role.SERVICE_AGENT, Role.SERVICE_MANAGER, Role.ANALYST, Role.SALES_MANAGER, Role.SALES_REP] as const;
/** Roles that write drafts and edit working copies. */
const WRITERS = [Role.SERVICE_AGENT, Role.SERVICE_MANAGER] as const;
/** Roles that publish and archive. */
const PUBLISHERS = [Role.SERVICE_MANAGER] as const;
/** Articles read to rank one search at most (those sharing a term; FerretDB scans anyway). */
const MAX_CANDIDATES = 2000;
const MAX_SEARCH_RESULTS = 50;

const objectId = z.string().regex(OBJECT_ID, 'Not a product id').transform((v) => v.toLowerCase());
const text = (max: number) => z.string().trim().min(1, 'Required').max(max, `At most ${max} characters`);
const list = <T extends z.ZodType>(item: T, max: number) => z.array(item).max(max, `At most ${max}`);
const uniqueBy = (values: string[], key: (v: string) => string) => {
  const seen = new Map<string, string>();
  for (const v of values) if (!seen.has(key(v))) seen.set(key(v), v);
  return [...seen.values()];
};

const contentShape = {
  kind: z.enum(ARTICLE_KINDS),
  title: text(200),
  body: text(50_000),
  keywords: list(text(50), 30),
  categories: list(text(60), 10),
  productIds: list(objectId, 50),
};
const createInput = z.object({
  ...contentShape,
  keywords: contentShape.keywords.nullish().transform((v) => v ?? []),
  categories: contentShape.categories.nullish().transform((v) => v ?? []),
  productIds: contentShape.productIds.nullish().transform((v) => v ?? []),
});
const updateInput = z
  .object({
    kind: contentShape.kind.nullish(),
    title: contentShape.title.nullish(),
    body: contentShape.body.nullish(),
    keywords: contentShape.keywords.nullish(),
    categories: contentShape.categories.nullish(),
    productIds: contentShape.productIds.nullish(),
  })
  .refine((v) => Object.values(v).some((x) => x != null), { message: 'Give at least one field to change', path: ['title'] });
const filterInput = z
  .object({
    kind: z.enum(ARTICLE_KINDS).nullish(),
    category: text(60).nullish(),
    productId: objectId.nullish(),
    statuses: z.array(z.enum(ARTICLE_STATUSES)).max(ARTICLE_STATUSES.length).nullish(),
  })
  .nullish();
const queryInput = text(500).refine((q) => terms(q).length > 0, 'No searchable words');
const firstInput = (max: number) => z.number().int('A whole number').min(1, 'At least 1').max(max, `At most ${max}`);

export type CreateArticleInput = z.input<typeof createInput>;
export type UpdateArticleInput = z.input<typeof updateInput>;
export type ArticleFilterInput = z.input<typeof filterInput>;

function parse<T extends z.ZodType>(schema: T, value: unknown, prefix: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ArticleException('ARTICLE_INVALID_INPUT', 'Invalid article input', fieldProblems(parsed.error.issues, prefix));
  return parsed.data;
}

/** Keywords and categories: trimmed, duplicates (any case) dropped; product ids deduplicated. */
function normalised<T extends Partial<ArticleContent>>(content: T): T {
  const out = { ...content };
  if (out.keywords) out.keywords = uniqueBy(out.keywords, (k) => k.toLowerCase());
  if (out.categories) out.categories = uniqueBy(out.categories, (c) => c.toLowerCase());
  if (out.productIds) out.productIds = [...new Set(out.productIds)];
  return out;
}

const contentOf = (a: ArticleContent): ArticleContent => ({ kind: a.kind, title: a.title, body: a.body, keywords: a.keywords, categories: a.categories, productIds: a.productIds });
const tokensOf = (a: ArticleContent) => termSet(a.title, a.body, a.keywords.join(' '));
const categoryKeysOf = (a: ArticleContent) => a.categories.map((c) => c.toLowerCase());
const sameContent = (a: ArticleContent, b: ArticleContent) => JSON.stringify(contentOf(a)) === JSON.stringify(contentOf(b));

export interface ArticleMatch {
  article: ArticleRecord;
  score: number;
}

type Viewer = 'staff' | 'customer';

/** The one facade resolvers, the conversation module and Ticket.suggestedArticles call for the knowledge base (SVC-4). */
export class ArticleService {
  readonly writer: AggregateWriter<ArticleRecord>;

  constructor(
    private readonly articles: ArticleModel,
    relay: OutboxRelay,
  ) {
    this.writer = new AggregateWriter(articles, relay, {
      notFound: (id) => new ArticleException('ARTICLE_NOT_FOUND', `No article ${id}`),
      conflict: (message) => new ArticleException('ARTICLE_VERSION_CONFLICT', message),
    });
  }

  /** The relay's removal of published events joins each article's write queue. */
  get serial() {
    return this.writer.serial;
  }

  private viewerOf(user: AuthUser): Viewer {
    if (isCustomerCaller(user)) return 'customer';
    if (hasAnyRole(user, STAFF_READERS)) return 'staff';
    throw new ArticleException('ARTICLE_FORBIDDEN', 'Your role cannot read the knowledge base');
  }

  /** What a viewer sees of an article: staff the working copy, customers the published revision (null: hidden). */
  private view(article: ArticleRecord, viewer: Viewer): ArticleRecord | null {
    if (viewer === 'staff') return article;
    if (article.status !== 'PUBLISHED' || !article.published) return null;
    return { ...article, ...contentOf(article.published), categoryKeys: article.published.categoryKeys, tokens: article.published.tokens, hasUnpublishedChanges: false };
  }

  // ---- reads --------------------------------------------------------------------------------------

  async get(id: string, user: AuthUser): Promise<ArticleRecord | null> {
    const viewer = this.viewerOf(user);
    if (!OBJECT_ID.test(id)) return null;
    const article = await this.articles.findById(id.toLowerCase()).lean<ArticleRecord>().exec();
    return article ? this.view(article, viewer) : null;
  }

  /** Published revisions, newest first. */
  revisions(article: ArticleRecord): ArticleRevision[] {
    return [...(article.revisions ?? [])].reverse();
  }

  /** The query for what a viewer may list with a filter (customers: published revisions' fields). */
  private filterQuery(viewer: Viewer, filter: NonNullable<z.output<typeof filterInput>> | null): Record<string, unknown> {
    const clauses: Record<string, unknown>[] = [];
    const path = viewer === 'customer' ? 'published.' : '';
    if (viewer === 'customer') clauses.push({ status: 'PUBLISHED' });
    else if (filter?.statuses?.length) clauses.push({ status: { $in: filter.statuses } });
    if (filter?.kind) clauses.push({ [`${path}kind`]: filter.kind });
    if (filter?.category) clauses.push({ [`${path}categoryKeys`]: filter.category.toLowerCase() });
    if (filter?.productId) clauses.push({ [`${path}productIds`]: filter.productId });
    return clauses.length ? { $and: clauses } : {};
  }

  async list(args: PageArgs & { filter?: ArticleFilterInput; count?: boolean }, user: AuthUser): Promise<Page<ArticleRecord>> {
    const viewer = this.viewerOf(user);
    const filter = parse(filterInput, args.filter, 'filter') ?? null;
    const page = await paginate(this.articles, this.filterQuery(viewer, filter), args, { sort: { field: 'createdAt', direction: -1 }, count: args.count !== false });
    return { ...page, items: page.items.map((a) => this.view(a, viewer)!) };
  }

  async ofProduct(productId: string, first: number | null | undefined, user: AuthUser): Promise<ArticleRecord[]> {
    const viewer = this.viewerOf(user);
    const size = parse(firstInput(100), first ?? 20, 'first');
    if (!OBJECT_ID.test(productId)) return [];
    const found = await this.articles.find(this.filterQuery(viewer, { productId: productId.toLowerCase() })).sort({ createdAt: -1, _id: -1 }).limit(size).lean<ArticleRecord[]>().exec();
    return found.map((a) => this.view(a, viewer)!);
  }

  async categories(user: AuthUser): Promise<Array<{ name: string; articleCount: number }>> {
    const viewer = this.viewerOf(user);
    const all = await this.articles.find(this.filterQuery(viewer, null), { categories: 1, published: 1, status: 1 }).lean<ArticleRecord[]>().exec();
    const counts = new Map<string, { name: string; articleCount: number }>();
    for (const article of all) {
      const names = viewer === 'customer' ? (article.published?.categories ?? []) : article.categories;
      for (const name of names) {
        const entry = counts.get(name.toLowerCase()) ?? { name, articleCount: 0 };
        entry.articleCount += 1;
        counts.set(name.toLowerCase(), entry);
      }
    }
    return [...counts.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  // ---- search -------------------------------------------------------------------------------------

  /** Ranks the candidates sharing a term (or the product) with the question; ties: newest first. */
  private async rank(viewer: Viewer, questionTerms: string[], productId: string | null, filter: NonNullable<z.output<typeof filterInput>> | null, first: number, minScore = 0): Promise<ArticleMatch[]> {
    const path = viewer === 'customer' ? 'published.' : '';
    const byTerms: Record<string, unknown>[] = [{ [`${path}tokens`]: { $in: questionTerms } }];
    if (productId) byTerms.push({ [`${path}productIds`]: productId });
    let base = this.filterQuery(viewer, filter);
    if (viewer === 'staff' && !filter?.statuses?.length) base = { $and: [base, { status: { $in: ['DRAFT', 'PUBLISHED'] satisfies ArticleStatus[] } }] };
    const candidates = await this.articles.find({ $and: [base, { $or: byTerms }] }).limit(MAX_CANDIDATES).lean<ArticleRecord[]>().exec();
    return candidates
      .map((article) => {
        const seen = this.view(article, viewer)!;
        return { article: seen, score: score(questionTerms, seen, productId) };
      })
      .filter((m) => m.score > minScore)
      .sort((a, b) => b.score - a.score || b.article.createdAt.getTime() - a.article.createdAt.getTime())
      .slice(0, first);
  }

  async search(query: string, filter: ArticleFilterInput, first: number | null | undefined, user: AuthUser): Promise<ArticleMatch[]> {
    const viewer = this.viewerOf(user);
    const q = parse(queryInput, query, 'query');
    const f = parse(filterInput, filter, 'filter') ?? null;
    const size = parse(firstInput(MAX_SEARCH_RESULTS), first ?? 10, 'first');
    return this.rank(viewer, terms(q), null, f, size);
  }

  /**
   * Published articles for a question (online service, SVC-5), as customers see them: the best
   * `first` scoring above `minScore`. No role check: the caller (conversation module) checked.
   */
  async answer(question: string, productId: string | null, first: number, minScore: number): Promise<ArticleMatch[]> {
    return this.rank('customer', terms(question), productId, null, first, minScore);
  }

  /** `Ticket.suggestedArticles`: published articles for the ticket's subject, description and product. */
  async suggestFor(ticket: { subject: string; description?: string | null; productId?: string | null }, first: number | null | undefined, user: AuthUser): Promise<ArticleMatch[]> {
    this.viewerOf(user);
    const size = parse(firstInput(MAX_SEARCH_RESULTS), first ?? 5, 'first');
    return this.rank('customer', terms(`${ticket.subject} ${ticket.description ?? ''}`), ticket.productId ?? null, null, size);
  }

  // ---- changes ------------------------------------------------------------------------------------

  private requireRole(user: AuthUser, roles: readonly Role[], what: string): void {
    if (isCustomerCaller(user) || !hasAnyRole(user, roles)) throw new ArticleException('ARTICLE_FORBIDDEN', `Your role cannot ${what} articles`);
  }

  /** A new DRAFT (service agents and managers). */
  async create(input: CreateArticleInput, user: AuthUser): Promise<ArticleRecord> {
    this.requireRole(user, WRITERS, 'write');
    const content = normalised(parse(createInput, input, 'input'));
    const now = new Date();
    const record: ArticleRecord = {
      _id: new Types.ObjectId(),
      ...content,
      status: 'DRAFT',
      categoryKeys: categoryKeysOf(content),
      tokens: tokensOf(content),
      published: null,
      revisions: [],
      hasUnpublishedChanges: true,
      authorId: user.id,
      updatedBy: user.id,
      publishedAt: null,
      archivedAt: null,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    return this.writer.insert(record, []);
  }

  /** Edits the working copy; the published revision (if any) stays what customers see. */
  update(id: string, input: UpdateArticleInput, user: AuthUser, expectedVersion?: number | null): Promise<ArticleRecord> {
    try {
      this.requireRole(user, WRITERS, 'edit');
    } catch (error) {
      return Promise.reject(error);
    }
    let d: z.output<typeof updateInput>;
    try {
      d = parse(updateInput, input, 'input');
    } catch (error) {
      return Promise.reject(error);
    }
    const given = normalised(Object.fromEntries(Object.entries(d).filter(([, v]) => v != null)) as Partial<ArticleContent>);
    return this.writer.mutate(id, expectedVersion, (current) => {
      const next: ArticleContent = { ...contentOf(current), ...given };
      if (sameContent(next, current)) return null;
      return {
        changes: { ...next, categoryKeys: categoryKeysOf(next), tokens: tokensOf(next), hasUnpublishedChanges: !current.published || !sameContent(next, current.published), updatedBy: user.id },
        events: () => [],
      };
    });
  }

  /** The working copy becomes the next revision; DRAFT or ARCHIVED become PUBLISHED (`article.published`). */
  publish(id: string, user: AuthUser, expectedVersion?: number | null): Promise<ArticleRecord> {
    try {
      this.requireRole(user, PUBLISHERS, 'publish');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.writer.mutate(id, expectedVersion, (current) => {
      if (current.status === 'PUBLISHED' && !current.hasUnpublishedChanges) {
        throw new ArticleException('ARTICLE_INVALID_TRANSITION', 'Nothing to publish: the working copy is the published revision', [{ field: 'id', message: `Revision ${current.published?.revision} is current` }]);
      }
      const now = new Date();
      const revision: ArticleRevision = { ...contentOf(current), revision: (current.revisions?.length ?? 0) + 1, publishedAt: now, publishedBy: user.id };
      const published: PublishedArticle = { ...revision, categoryKeys: categoryKeysOf(current), tokens: tokensOf(current) };
      return {
        changes: { status: 'PUBLISHED', published, revisions: [...(current.revisions ?? []), revision], hasUnpublishedChanges: false, publishedAt: now, archivedAt: null, updatedBy: user.id },
        events: (next) => [articleEvent(ArticleEventType.PUBLISHED, next, { previousStatus: current.status, publishedBy: user.id, publishedAt: now.toISOString() }, now)],
      };
    });
  }

  /** DRAFT or PUBLISHED → ARCHIVED: customers no longer see it (`article.archived`). */
  archive(id: string, user: AuthUser, expectedVersion?: number | null): Promise<ArticleRecord> {
    try {
      this.requireRole(user, PUBLISHERS, 'archive');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.writer.mutate(id, expectedVersion, (current) => {
      if (current.status === 'ARCHIVED') throw new ArticleException('ARTICLE_INVALID_TRANSITION', 'The article is archived already', [{ field: 'id', message: 'Already ARCHIVED' }]);
      const now = new Date();
      return {
        changes: { status: 'ARCHIVED', archivedAt: now, updatedBy: user.id },
        events: (next) => [articleEvent(ArticleEventType.ARCHIVED, next, { previousStatus: current.status, archivedBy: user.id, archivedAt: now.toISOString() }, now)],
      };
    });
  }
}
