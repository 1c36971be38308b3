import express, { type Router } from 'express';
import { acceptedSecrets, sharedSecretMatches } from '@crm/auth';
import type { Logger } from '@crm/logger';
import { PERSONAL_FIELDS, type PersonalEntity } from './contract.js';
import type { SubjectKeyStore } from './key-store.js';

export const KEYS_PATH = '/internal/personal-data-keys';
export const INTERNAL_SECRET_HEADER = 'x-crm-internal-secret';
export const MAX_SUBJECTS_PER_REQUEST = 500;

/**
 * `POST /internal/personal-data-keys` `{ entity, subjects }` → `{ keys: { <subject>: base64 | null } }`:
 * the owner hands its people's keys to the platform's other services (consumers of its events), who
 * present the shared internal secret. Never creates a key; null means erased. Not behind the gateway.
 */
export function personalDataKeysRouter(options: { store: SubjectKeyStore; entities: readonly PersonalEntity[]; secret: string; previousSecret?: string | undefined; logger: Logger }): Router {
  // The replaced secret stays accepted while the readers move to the new one (a rotation).
  const secret = acceptedSecrets(options.secret, options.previousSecret);
  const router = express.Router();
  router.post(KEYS_PATH, express.json({ limit: '100kb' }), async (req, res) => {
    if (!sharedSecretMatches(secret, req.headers[INTERNAL_SECRET_HEADER])) {
      res.status(403).json({ error: 'FORBIDDEN' });
      return;
    }
    const { entity, subjects } = (req.body ?? {}) as { entity?: unknown; subjects?: unknown };
    if (typeof entity !== 'string' || !Object.hasOwn(PERSONAL_FIELDS, entity) || !options.entities.includes(entity as PersonalEntity)) {
      res.status(400).json({ error: 'BAD_USER_INPUT', field: 'entity', message: `this service keeps keys for: ${options.entities.join(', ')}` });
      return;
    }
    if (!Array.isArray(subjects) || subjects.length === 0 || subjects.length > MAX_SUBJECTS_PER_REQUEST || !subjects.every((s) => typeof s === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(s))) {
      res.status(400).json({ error: 'BAD_USER_INPUT', field: 'subjects', message: `1 to ${MAX_SUBJECTS_PER_REQUEST} ids` });
      return;
    }
    try {
      const keys = await options.store.keysFor(entity as PersonalEntity, subjects as string[], { create: false });
      res.json({ keys: Object.fromEntries([...keys].map(([subject, key]) => [subject, key ? key.toString('base64') : null])) });
    } catch (error) {
      options.logger.error({ err: error }, 'personal-data keys not read');
      res.status(503).json({ error: 'UNAVAILABLE' });
    }
  });
  return router;
}
