import type { Router } from 'express';
import type { OutboxRelay } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { Connection } from '@crm/mongo';
import type { PersonalEntity } from './contract.js';
import type { PersonalDataEnv } from './env.js';
import { personalDataKeysRouter } from './key-endpoint.js';
import { SubjectKeyStore } from './key-store.js';
import { SealingPublisher } from './sealing-publisher.js';

/**
 * Makes a service the owner of these entities' personal data: their events leave through `relay`
 * sealed, and `router` (mount it beside /graphql) hands the keys to the other services' consumers.
 */
export function personalDataOwner(options: { connection: Connection; relay: OutboxRelay; entities: readonly PersonalEntity[]; env: PersonalDataEnv; logger: Logger }): { store: SubjectKeyStore; router: Router } {
  const { connection, relay, entities, env, logger } = options;
  const store = new SubjectKeyStore(connection);
  relay.wrapPublisher((publisher) => new SealingPublisher(publisher, store, entities));
  const router = personalDataKeysRouter({ store, entities, secret: env.PERSONAL_DATA_SECRET, previousSecret: env.PERSONAL_DATA_SECRET_PREVIOUS, logger });
  return { store, router };
}
