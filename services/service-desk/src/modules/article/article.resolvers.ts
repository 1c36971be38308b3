import { connectionOf, selectsField } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { ArticleException } from './article.errors.js';

export const articleResolvers: Resolvers = {
  Query: {
    article: (_parent, { id }, { services, user }) => services.articles.get(id, user),
    articles: async (_parent, { first, after, filter }, { services, user }, info) =>
      connectionOf(await services.articles.list({ first, after, filter, count: selectsField(info, ['totalCount']) }, user)),
    searchArticles: (_parent, { query, filter, first }, { services, user }) => services.articles.search(query, filter, first, user),
    articleCategories: (_parent, _args, { services, user }) => services.articles.categories(user),
  },
  Mutation: {
    createArticle: (_parent, { input }, { services, user }) => services.articles.create(input, user),
    updateArticle: (_parent, { id, input, expectedVersion }, { services, user }) => services.articles.update(id, input, user, expectedVersion),
    publishArticle: (_parent, { id, expectedVersion }, { services, user }) => services.articles.publish(id, user, expectedVersion),
    archiveArticle: (_parent, { id, expectedVersion }, { services, user }) => services.articles.archive(id, user, expectedVersion),
  },
  Article: {
    // Same visibility as `article(id)`: customers never see drafts through another subgraph either.
    __resolveReference: async (reference, { services, user }) => {
      const article = await services.articles.get(reference.id, user);
      if (!article) throw new ArticleException('ARTICLE_NOT_FOUND', `No article ${reference.id}`);
      return article;
    },
    id: (article) => article._id.toHexString(),
    products: (article) => article.productIds.map((id) => ({ id })),
    revision: (article) => article.published?.revision ?? null,
    revisions: (article, _args, { services }) => services.articles.revisions(article),
  },
  Ticket: {
    suggestedArticles: (ticket, { first }, { services, user }) => services.articles.suggestFor(ticket, first, user),
  },
  Product: {
    articles: (product, { first }, { services, user }) => services.articles.ofProduct(product.id, first, user),
  },
};
