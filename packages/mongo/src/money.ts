import { Schema } from 'mongoose';
import type { Money } from '@crm/money';

/** Money as stored: integer minor units and an ISO 4217 code, no subdocument id. */
export function moneySubdocument(): Schema<Money> {
  return new Schema<Money>(
    {
      amountMinor: { type: Number, required: true, validate: { validator: Number.isSafeInteger, message: 'Whole minor units' } },
      currency: { type: String, required: true, match: /^[A-Z]{3}$/ },
    },
    { _id: false },
  );
}
