import { connectionOf, selectsField } from '@crm/subgraph';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import { ConversationException } from './conversation.errors.js';

export const conversationResolvers: Resolvers = {
  Query: {
    conversation: (_parent, { id }, { services, user }) => services.conversations.get(id, user),
    conversations: async (_parent, { first, after, filter }, { services, user }, info) =>
      connectionOf(await services.conversations.list({ first, after, filter, count: selectsField(info, ['totalCount']) }, user)),
  },
  Mutation: {
    startConversation: (_parent, { input }, { services, user }) => services.conversations.start(input, user),
    sendConversationMessage: (_parent, { id, text, expectedVersion }, { services, user }) => services.conversations.send(id, text, user, expectedVersion),
    requestHumanAgent: (_parent, { id, expectedVersion }, { services, user }) => services.conversations.requestHumanAgent(id, user, expectedVersion),
    replyToConversation: (_parent, { id, text, expectedVersion }, { services, user }) => services.conversations.reply(id, text, user, expectedVersion),
    closeConversation: (_parent, { id, expectedVersion }, { services, user }) => services.conversations.close(id, user, expectedVersion),
  },
  Conversation: {
    __resolveReference: async (reference, { services, user }) => {
      const c = await services.conversations.get(reference.id, user);
      if (!c) throw new ConversationException('CONVERSATION_NOT_FOUND', `No conversation ${reference.id}`);
      return c;
    },
    id: (c) => c._id.toHexString(),
    customer: (c) => ({ id: c.customerId }),
    product: (c) => (c.productId ? { id: c.productId } : null),
    ticket: (c, _args, { services, user }) => (c.ticketId ? services.tickets.get(c.ticketId, user) : null),
    messages: (c, { after }, { services }) => services.conversations.messagesAfter(c, after),
  },
  ConversationAnswer: {
    article: (answer, _args, { services, user }) => services.articles.get(answer.articleId, user),
  },
  Ticket: {
    conversations: (ticket, _args, { services, user }) => services.conversations.ofTicket(ticket._id.toHexString(), user),
  },
};
