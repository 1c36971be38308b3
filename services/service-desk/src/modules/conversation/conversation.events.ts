import { createEvent, type CloudEvent } from '@crm/events';
import type { ConversationRecord } from './conversation.model.js';

/**
 * Events of the conversation aggregate (topic `<prefix>.conversation`, key = conversation id). Message
 * texts are not published (they stay in the service desk; a handed-over conversation's messages are
 * also public comments of its ticket, which publish `ticket.commented`).
 */
export const ConversationEventType = {
  STARTED: 'conversation.started',
  HANDED_OVER: 'conversation.handed-over',
  CLOSED: 'conversation.closed',
  /** The customer changed (customers merged). */
  UPDATED: 'conversation.updated',
} as const;
export type ConversationEventType = (typeof ConversationEventType)[keyof typeof ConversationEventType];

export const CONVERSATION_EVENT_SOURCE = '/crm/service-desk';

export interface ConversationEventData {
  conversationId: string;
  customerId: string;
  productId: string | null;
  status: ConversationRecord['status'];
  ticketId: string | null;
  messageCount: number;
  version: number;
}

export function conversationEvent(type: ConversationEventType, c: ConversationRecord, extra: Record<string, unknown> = {}, time = c.updatedAt): CloudEvent {
  const data: ConversationEventData = {
    conversationId: c._id.toHexString(),
    customerId: c.customerId,
    productId: c.productId,
    status: c.status,
    ticketId: c.ticketId,
    messageCount: c.messages.length,
    version: c.version,
  };
  return createEvent({ source: CONVERSATION_EVENT_SOURCE, type, subject: data.conversationId, time, data: { ...data, ...extra } });
}
