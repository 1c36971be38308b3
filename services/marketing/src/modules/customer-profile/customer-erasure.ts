import type { OutboxRelay } from '@crm/events';
import type { Model } from 'mongoose';

/** What stays of erased free text (right to erasure, SYS-6). */
export const ERASED_TEXT = '[erased]';

/**
 * `customer.erased` for the marketing modules besides the profile: the messages sent to the person
 * (text and address), their survey answers' free text (ratings and choices stay for the results) and
 * the contact addresses of their consents (the consent itself stays: proof of what they allowed).
 * A redaction, no events. Idempotent.
 */
export function marketingErasers(
  models: {
    messages: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    responses: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    consents: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  },
  relay: OutboxRelay,
): Array<(customerId: string) => Promise<number>> {
  // Each document in step with the relay's removal of its published events (FerretDB v1 rewrites
  // whole documents: a racing removal could bring the erased text back).
  const eraseMessages = (customerId: string) => relay.updateMatching(models.messages, { customerId }, { $set: { subject: ERASED_TEXT, body: ERASED_TEXT, to: null } });
  const eraseAnswers = async (customerId: string) => {
    const responses = await models.responses.collection.find({ customerId }, { projection: { _id: 1 } }).toArray();
    for (const { _id } of responses) {
      await relay.writing(models.responses, _id, async () => {
        const response = await models.responses.collection.findOne({ _id });
        if (!response) return;
        const answers = (response.answers as Array<{ text: string | null }>).map((a) => ({ ...a, text: a.text === null ? null : ERASED_TEXT }));
        await models.responses.collection.updateOne({ _id }, { $set: { answers } });
      });
    }
    return responses.length;
  };
  const eraseConsentAddresses = (customerId: string) => relay.updateMatching(models.consents, { customerId }, { $set: { address: null } });
  return [eraseMessages, eraseAnswers, eraseConsentAddresses];
}
