import type { OutboxRelay } from '@crm/events';
import type { Model } from 'mongoose';
import { ERASED_TEXT } from '@crm/customer-link';

/**
 * `customer.erased` for the sales modules: what identifies the person, or was written about them,
 * goes from every record holding their customer id; amounts, products, stages, statuses and times
 * stay (the sales figures). A redaction, not a business change: no event (consumers erase their own
 * copies). Idempotent: each field is only ever set to its erased value.
 */
export function salesErasers(
  relay: OutboxRelay,
  models: {
  leads: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  opportunities: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  quotes: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  contracts: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  orders: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  expenses: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
},
): Record<string, (customerId: string) => Promise<number>> {
  // Each record in step with the relay's removal of its published events (OutboxRelay.updateMatching):
  // on FerretDB v1 a racing removal could bring the erased text back.
  const redact = (model: Model<any>, fields: Record<string, unknown>, textFields: string[] = []) => async (customerId: string) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const id = customerId.toLowerCase();
    let changed = 0;
    changed += await relay.updateMatching(model, { customerId: id }, { $set: fields });
    // Optional text fields are erased only where something was written.
    for (const field of textFields) changed += await relay.updateMatching(model, { customerId: id, [field]: { $nin: [null, ERASED_TEXT] } }, { $set: { [field]: ERASED_TEXT } });
    return changed;
  };
  const eraseLeads = redact(models.leads, { name: ERASED_TEXT, email: null, phones: [], title: null, notes: null });
  return {
    // A converted lead also keeps the contact details it gave the new customer.
    leads: async (customerId) =>
      (await eraseLeads(customerId)) +
      (await relay.updateMatching(models.leads, { customerId: customerId.toLowerCase(), conversion: { $ne: null }, 'conversion.contact': { $ne: null } }, { $set: { 'conversion.contact': null } })),
    opportunities: redact(models.opportunities, { name: ERASED_TEXT, description: null }),
    quotes: redact(models.quotes, { title: ERASED_TEXT, notes: null }, ['rejectionReason']),
    contracts: redact(models.contracts, { title: ERASED_TEXT, notes: null }),
    orders: redact(models.orders, { notes: null }, ['rejectionReason', 'cancellationReason', 'delivery.receivedBy']),
    expenses: redact(models.expenses, { notes: null }),
  };
}
