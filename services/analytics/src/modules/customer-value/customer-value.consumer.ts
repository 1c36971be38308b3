import { z } from 'zod';
import { PoisonEventError, type CloudEvent, type EventConsumer } from '@crm/events';
import { isDuplicateKey } from '@crm/mongo';
import type { PersonalDataOpener } from '@crm/personal-data';
import type { ReadModelConsumerFactory } from '../read-model/read-model.consumers.js';
import type { CustomerFactRecord, CustomerValueModels } from './customer-value.model.js';

/** The parts of a customer snapshot analytics keeps (services/customers customer.events.ts); no contact data. */
const snapshot = z.object({
  customerId: z.string().min(1),
  name: z.string(),
  lifecycleStage: z.string().min(1),
  organization: z.string().nullable(),
  source: z.string().nullable(),
  ownerId: z.string().min(1),
  department: z.string().nullable().optional(),
  country: z.string().nullable().optional(),
  province: z.string().nullable().optional(),
  city: z.string().nullable().optional(),
  createdAt: z.iso.datetime(),
  version: z.number().int().nonnegative().optional(),
});
const deleted = z.object({ customerId: z.string().min(1), version: z.number().int().nonnegative() });
const merged = snapshot.extend({ survivorId: z.string().min(1), mergedId: z.string().min(1) });

export const CUSTOMER_EVENT_TYPES = ['customer.created', 'customer.updated', 'customer.deleted', 'customer.restored', 'customer.merged', 'customer.erased'];

function invalid(event: CloudEvent, error: z.ZodError): never {
  throw new PoisonEventError(`${event.type} ${event.id}: ${error.issues.map((i) => i.path.join('.') || 'data').join(', ')} invalid`);
}

/** Keeps the newest snapshot per customer (by version), so redelivered or late events change nothing. */
export async function applyCustomerEvent(models: CustomerValueModels, event: CloudEvent): Promise<void> {
  const facts = models.customerFacts.collection;
  if (event.type === 'customer.deleted') {
    const parsed = deleted.safeParse(event.data);
    if (!parsed.success) invalid(event, parsed.error);
    await facts.updateOne({ _id: parsed.data.customerId, version: { $lt: parsed.data.version } } as never, { $set: { deleted: true, version: parsed.data.version } });
    return;
  }
  if (event.type === 'customer.erased') {
    // Right to erasure (SYS-6): the name, organisation and city go; counts, values and the coarse
    // geography (province, country) stay in the figures. The newest version: a replay ends here too.
    const parsed = deleted.safeParse(event.data);
    if (!parsed.success) invalid(event, parsed.error);
    await facts.updateOne({ _id: parsed.data.customerId, version: { $lt: parsed.data.version } } as never, { $set: { name: 'Erased customer', organization: null, city: null, version: parsed.data.version } });
    return;
  }
  const parsed = (event.type === 'customer.merged' ? merged : snapshot).safeParse(event.data);
  if (!parsed.success) invalid(event, parsed.error);
  const data = parsed.data;
  const version = data.version ?? 0;
  const fact: Omit<CustomerFactRecord, '_id'> = {
    version,
    name: data.name,
    lifecycleStage: data.lifecycleStage,
    organization: data.organization,
    source: data.source,
    ownerId: data.ownerId,
    department: data.department ?? null,
    country: data.country ?? null,
    province: data.province ?? null,
    city: data.city ?? null,
    customerCreatedAt: new Date(data.createdAt),
    deleted: false,
    mergedInto: null,
  };
  const current = await models.customerFacts.findById(data.customerId).lean<CustomerFactRecord>().exec();
  if (!current) {
    try {
      await facts.insertOne({ _id: data.customerId, ...fact } as never);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      throw new Error(`customer fact ${data.customerId} was created concurrently; retrying`, { cause: error });
    }
  } else if (current.version < version || (current.version === version && event.type === 'customer.restored')) {
    // A customer merged away stays merged, even when its own older events arrive after the merge.
    const merged = current.mergedInto ? { deleted: true, mergedInto: current.mergedInto } : {};
    await facts.updateOne({ _id: data.customerId, version: current.version } as never, { $set: { ...fact, ...merged } });
  }
  if (event.type === 'customer.merged') {
    const { mergedId, survivorId } = data as z.infer<typeof merged>;
    // The merged customer stays counted nowhere: its orders move to the survivor through order.updated.
    // Its own events may come later (another partition): a tombstone (version -1) makes them keep it merged.
    await facts.updateOne({ _id: mergedId } as never, { $set: { deleted: true, mergedInto: survivorId }, $setOnInsert: { version: -1 } }, { upsert: true });
  }
}

/** `personalData` opens the customer's sealed name, organization and address (keys from the customers service). */
export function createCustomerConsumer(factory: ReadModelConsumerFactory, models: CustomerValueModels, personalData: PersonalDataOpener): EventConsumer {
  return factory.create(
    'customers',
    ['customer'],
    CUSTOMER_EVENT_TYPES,
    personalData.handler(async (event) => {
      // A reader keeps keys for a minute; an erased person's goes at once.
      if (event.type === 'customer.erased') personalData.forget('customer', event.subject);
      await applyCustomerEvent(models, event);
    }),
  );
}
