export { PERSONAL_FIELDS, entityOf, type PersonalEntity, type SealedFields } from './contract.js';
export { SubjectKeyStore } from './key-store.js';
export { SealingPublisher, sealEvent } from './sealing-publisher.js';
export { personalDataKeysRouter, KEYS_PATH, INTERNAL_SECRET_HEADER } from './key-endpoint.js';
export { PersonalDataOpener, type PersonalDataOpenerOptions } from './key-client.js';
export { personalDataEnv, type PersonalDataEnv } from './env.js';
export { personalDataOwner } from './owner.js';
