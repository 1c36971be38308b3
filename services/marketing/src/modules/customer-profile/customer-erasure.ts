import type { Model } from 'mongoose';

/** What stays of erased free text (right to erasure, SYS-6). */
export const ERASED_TEXT = '[erased]';

/**
 * `customer.erased` for the marketing modules besides the profile: the messages sent to the person
 * (text and address), their survey answers' free text (ratings and choices stay for the results) and
 * the contact addresses of their consents (the consent itself stays: proof of what they allowed).
 * A redaction, no events. Idempotent.
 */
export function marketingErasers(models: {
  messages: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  responses: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  consents: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}): Array<(customerId: string) => Promise<number>> {
  const eraseMessages = async (customerId: string) =>
    (await models.messages.collection.updateMany({ customerId }, { $set: { subject: ERASED_TEXT, body: ERASED_TEXT, to: null } })).modifiedCount;
  const eraseAnswers = async (customerId: string) => {
    const responses = await models.responses.collection.find({ customerId }).toArray();
    for (const response of responses) {
      const answers = (response.answers as Array<{ text: string | null }>).map((a) => ({ ...a, text: a.text === null ? null : ERASED_TEXT }));
      await models.responses.collection.updateOne({ _id: response._id }, { $set: { answers } });
    }
    return responses.length;
  };
  const eraseConsentAddresses = async (customerId: string) => (await models.consents.collection.updateMany({ customerId }, { $set: { address: null } })).modifiedCount;
  return [eraseMessages, eraseAnswers, eraseConsentAddresses];
}
