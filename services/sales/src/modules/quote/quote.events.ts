import { createEvent, type CloudEvent } from '@crm/events';
import type { Money } from '@crm/money';
import type { PricedLine, Totals } from '../../shared/pricing.js';
import type { QuoteRecord, QuoteStatus } from './quote.model.js';

/** Every event the quote aggregate publishes (topic `<prefix>.quote`; key = quote id). */
export const QuoteEventType = {
  CREATED: 'quote.created',
  UPDATED: 'quote.updated',
  SENT: 'quote.sent',
  REVISED: 'quote.revised',
  ACCEPTED: 'quote.accepted',
  REJECTED: 'quote.rejected',
  EXPIRED: 'quote.expired',
} as const;
export type QuoteEventType = (typeof QuoteEventType)[keyof typeof QuoteEventType];

export const QUOTE_EVENT_SOURCE = '/crm/sales';

/** A line as events carry it (no descriptions: ids, quantities and amounts). */
export interface EventLine {
  productId: string;
  sku: string;
  quantity: number;
  unitPrice: Money;
  lineTotal: Money;
}

export const eventLines = (lines: PricedLine[]): EventLine[] =>
  lines.map((l) => ({ productId: l.productId, sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice, lineTotal: l.total }));

export interface QuoteEventData {
  quoteId: string;
  customerId: string;
  opportunityId: string | null;
  ownerId: string;
  department: string | null;
  status: QuoteStatus;
  revision: number;
  currency: string;
  lines: EventLine[];
  totals: Totals;
  validUntil: string;
  version: number;
}

export function quoteEvent(type: QuoteEventType, quote: QuoteRecord, extra: Record<string, unknown> = {}, time = quote.updatedAt): CloudEvent {
  const data: QuoteEventData = {
    quoteId: quote._id.toHexString(),
    customerId: quote.customerId,
    opportunityId: quote.opportunityId ?? null,
    ownerId: quote.ownerId,
    department: quote.department ?? null,
    status: quote.status,
    revision: quote.revision,
    currency: quote.currency,
    lines: eventLines(quote.lines),
    totals: quote.totals,
    validUntil: quote.validUntil.toISOString(),
    version: quote.version,
  };
  return createEvent({ source: QUOTE_EVENT_SOURCE, type, subject: data.quoteId, time, data: { ...data, ...extra } });
}
