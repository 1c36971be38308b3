import { isDuplicateKey, type Connection } from '@crm/mongo';
import { newDataKey } from './cipher.js';
import type { PersonalEntity } from './contract.js';

interface KeyDocument {
  _id: string;
  /** base64; null once shredded (the record stays, so no new key is ever made for that person). */
  key: string | null;
  createdAt: Date;
  shreddedAt?: Date;
}

/**
 * The owning service's per-person data keys (`personal_data_keys`, one document per person, so every
 * change is a single-document write on FerretDB and MongoDB alike). The key sits beside the person's
 * own record, which holds the same data in the clear; what it protects is the copies in Kafka.
 */
export class SubjectKeyStore {
  private readonly shredListeners: Array<(entity: PersonalEntity, subject: string) => void> = [];

  constructor(private readonly connection: Connection) {}

  /** Called after each shred in this process (e.g. so a cache drops the key at once). */
  onShred(listener: (entity: PersonalEntity, subject: string) => void): void {
    this.shredListeners.push(listener);
  }

  private get collection() {
    return this.connection.collection<KeyDocument>('personal_data_keys');
  }

  private static id(entity: PersonalEntity, subject: string): string {
    return `${entity}:${subject}`;
  }

  /** The keys of these people (null: shredded or never made). `create` makes the missing ones. */
  async keysFor(entity: PersonalEntity, subjects: string[], options: { create: boolean }): Promise<Map<string, Buffer | null>> {
    const found = new Map<string, Buffer | null>();
    // One `_id` lookup each: FerretDB v1 serves `_id` equality from its index but scans for `$in`.
    for (const subject of new Set(subjects)) {
      const id = SubjectKeyStore.id(entity, subject);
      let doc = await this.collection.findOne({ _id: id });
      if (!doc && options.create) doc = await this.create(id);
      found.set(subject, doc?.key ? Buffer.from(doc.key, 'base64') : null);
    }
    return found;
  }

  private async create(id: string): Promise<KeyDocument | null> {
    const doc: KeyDocument = { _id: id, key: newDataKey().toString('base64'), createdAt: new Date() };
    try {
      await this.collection.insertOne(doc);
      return doc;
    } catch (error) {
      // Made at the same moment by another replica: use theirs.
      if (!isDuplicateKey(error)) throw error;
      return this.collection.findOne({ _id: id });
    }
  }

  /** Crypto-shredding: the key is destroyed for good; every sealed copy of this person's data becomes unreadable. Idempotent. */
  async shred(entity: PersonalEntity, subject: string): Promise<void> {
    await this.collection.updateOne({ _id: SubjectKeyStore.id(entity, subject) }, { $set: { key: null, shreddedAt: new Date() }, $setOnInsert: { createdAt: new Date() } }, { upsert: true });
    for (const listener of this.shredListeners) listener(entity, subject);
  }
}
