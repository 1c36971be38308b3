import { createEvent, type CloudEvent } from '@crm/events';
import type { ArticleRecord } from './article.model.js';

/**
 * Events of the article aggregate (topic `<prefix>.article`, key = article id). Drafts and edits publish
 * nothing: only what customers can see changing is an event.
 */
export const ArticleEventType = {
  PUBLISHED: 'article.published',
  ARCHIVED: 'article.archived',
} as const;
export type ArticleEventType = (typeof ArticleEventType)[keyof typeof ArticleEventType];

export const ARTICLE_EVENT_SOURCE = '/crm/service-desk';

/** What every article event carries (the published revision's content, without the body). */
export interface ArticleEventData {
  articleId: string;
  revision: number | null;
  kind: ArticleRecord['kind'];
  title: string;
  categories: string[];
  productIds: string[];
  status: ArticleRecord['status'];
  version: number;
}

export function articleEvent(type: ArticleEventType, article: ArticleRecord, extra: Record<string, unknown> = {}, time = article.updatedAt): CloudEvent {
  const content = article.published ?? article;
  const data: ArticleEventData = {
    articleId: article._id.toHexString(),
    revision: article.published?.revision ?? null,
    kind: content.kind,
    title: content.title,
    categories: content.categories,
    productIds: content.productIds,
    status: article.status,
    version: article.version,
  };
  return createEvent({ source: ARTICLE_EVENT_SOURCE, type, subject: data.articleId, time, data: { ...data, ...extra } });
}
