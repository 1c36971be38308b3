import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';

export const ARTICLE_KINDS = ['FAQ', 'PRODUCT_KNOWLEDGE', 'SERVICE_PROCEDURE'] as const;
export const ARTICLE_STATUSES = ['DRAFT', 'PUBLISHED', 'ARCHIVED'] as const;
export type ArticleKind = (typeof ARTICLE_KINDS)[number];
export type ArticleStatus = (typeof ARTICLE_STATUSES)[number];

/** What an article says (the working copy, and each published revision). */
export interface ArticleContent {
  kind: ArticleKind;
  title: string;
  body: string;
  keywords: string[];
  /** Trimmed names; `categoryKeys` holds them lower-cased for filtering. */
  categories: string[];
  productIds: string[];
}

export interface ArticleRevision extends ArticleContent {
  revision: number;
  publishedAt: Date;
  publishedBy: string;
}

/** The latest published revision with its search terms (what customers see and search). */
export interface PublishedArticle extends ArticleRevision {
  categoryKeys: string[];
  tokens: string[];
}

/** An article as stored; also the GraphQL `Article` parent type (codegen mapper). */
export interface ArticleRecord extends ArticleContent {
  _id: Types.ObjectId;
  status: ArticleStatus;
  categoryKeys: string[];
  /** Search terms of the working copy (see article.search.ts). */
  tokens: string[];
  published: PublishedArticle | null;
  /** Every published revision, oldest first. */
  revisions: ArticleRevision[];
  hasUnpublishedChanges: boolean;
  authorId: string;
  updatedBy: string;
  publishedAt: Date | null;
  archivedAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const contentFields = {
  kind: { type: String, enum: ARTICLE_KINDS, required: true },
  title: { type: String, required: true },
  body: { type: String, required: true },
  keywords: { type: [String], default: [] },
  categories: { type: [String], default: [] },
  productIds: { type: [String], default: [] },
};

const revisionSchema = new Schema<ArticleRevision>({ ...contentFields, revision: { type: Number, required: true }, publishedAt: { type: Date, required: true }, publishedBy: { type: String, required: true } }, { _id: false });

const articleSchema = new Schema<ArticleRecord>(
  {
    ...contentFields,
    status: { type: String, enum: ARTICLE_STATUSES, required: true },
    categoryKeys: { type: [String], default: [] },
    tokens: { type: [String], default: [] },
    published: { type: Schema.Types.Mixed, default: null },
    revisions: { type: [revisionSchema], default: [] },
    hasUnpublishedChanges: { type: Boolean, default: true },
    authorId: { type: String, required: true },
    updatedBy: { type: String, required: true },
    publishedAt: { type: Date, default: null },
    archivedAt: { type: Date, default: null },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'articles', versionKey: false },
);
articleSchema.plugin(outboxPlugin);
// Indexes MongoDB would use (FerretDB v1 scans anyway): terms (multikey) for search, filters, lists.
articleSchema.index({ tokens: 1 });
articleSchema.index({ status: 1, 'published.tokens': 1 });
articleSchema.index({ status: 1, createdAt: -1 });
articleSchema.index({ productIds: 1 });
articleSchema.index({ 'published.productIds': 1 });

export type ArticleModel = Model<ArticleRecord>;

export function articleModel(connection: Connection): ArticleModel {
  return connection.model<ArticleRecord>('Article', articleSchema);
}
