import { defineException } from '@crm/errors';

export type ArticleExceptionReason = 'ARTICLE_NOT_FOUND' | 'ARTICLE_INVALID_INPUT' | 'ARTICLE_FORBIDDEN' | 'ARTICLE_INVALID_TRANSITION' | 'ARTICLE_VERSION_CONFLICT';

export const ArticleException = defineException<ArticleExceptionReason>('ArticleException', {
  /** Also a customer asking for a draft or archived article (its existence is not revealed). */
  ARTICLE_NOT_FOUND: 'NOT_FOUND',
  ARTICLE_INVALID_INPUT: 'BAD_USER_INPUT',
  ARTICLE_FORBIDDEN: 'FORBIDDEN',
  /** Publishing with nothing new to publish, archiving an archived article. Nothing changed. */
  ARTICLE_INVALID_TRANSITION: 'CONFLICT',
  ARTICLE_VERSION_CONFLICT: 'CONFLICT',
});
