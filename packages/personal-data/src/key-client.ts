import type { CloudEvent } from '@crm/events';
import type { Logger } from '@crm/logger';
import { open } from './cipher.js';
import { entityOf, PERSONAL_FIELDS, type PersonalEntity, type SealedFields } from './contract.js';
import { INTERNAL_SECRET_HEADER, KEYS_PATH, MAX_SUBJECTS_PER_REQUEST } from './key-endpoint.js';
import type { PersonalDataEnv } from './env.js';
import { KeyCache } from './key-cache.js';
import { aadOf } from './sealing-publisher.js';

export interface PersonalDataOpenerOptions {
  /** Base URL of each entity's owner, e.g. `{ customer: 'http://customers:4001' }`. */
  sources: Partial<Record<PersonalEntity, string>>;
  secret: string;
  logger: Logger;
  /** How long a fetched key is kept in memory (default 60 s): an erasure reaches every reader within it at the latest. */
  cacheMs?: number;
  /** Keep asking an owner that does not answer for this long before failing (default 30 s). */
  retryForMs?: number;
}

/**
 * The consumer's side: opens the sealed personal fields of events before the handler sees them,
 * with keys fetched from the owning service. An event whose key is gone (the person was erased)
 * arrives with the contract's `erased` values (null for the rest). Events without `data.sealed`
 * (older history, tests) pass through unchanged.
 */
export class PersonalDataOpener {
  /** A reader configured from the service's env (personalDataEnv). */
  static fromEnv(env: PersonalDataEnv, logger: Logger): PersonalDataOpener {
    return new PersonalDataOpener({ sources: env.PERSONAL_DATA_KEY_SOURCES, secret: env.PERSONAL_DATA_SECRET, logger });
  }

  private readonly cache: KeyCache;
  private readonly retryForMs: number;

  constructor(private readonly options: PersonalDataOpenerOptions) {
    this.cache = new KeyCache(options.cacheMs ?? 60_000);
    this.retryForMs = options.retryForMs ?? 30_000;
  }

  /** `handle` for an EventConsumer: opens, then calls `handler`. */
  handler(handler: (event: CloudEvent) => Promise<void>): (event: CloudEvent) => Promise<void> {
    return async (event) => handler((await this.openAll([event]))[0]!);
  }

  batchHandler(handler: (events: CloudEvent[]) => Promise<void>): (events: CloudEvent[]) => Promise<void> {
    return async (events) => handler(await this.openAll(events));
  }

  /** Drops a cached key at once (on `customer.erased`, before the cache would). */
  forget(entity: PersonalEntity, subject: string): void {
    this.cache.forget(entity, subject);
  }

  async openAll(events: CloudEvent[]): Promise<CloudEvent[]> {
    const wanted = new Map<PersonalEntity, Set<string>>();
    for (const event of events) {
      const entity = sealedEntity(event);
      if (entity) wanted.set(entity, (wanted.get(entity) ?? new Set()).add(event.subject));
    }
    for (const [entity, subjects] of wanted) await this.load(entity, [...subjects]);
    return events.map((event) => {
      const entity = sealedEntity(event);
      return entity ? this.openEvent(event, entity) : event;
    });
  }

  private openEvent(event: CloudEvent, entity: PersonalEntity): CloudEvent {
    const { sealed, ...data } = event.data as Record<string, unknown> & { sealed: SealedFields };
    const key = this.cache.key(entity, event.subject);
    let personal: Record<string, unknown>;
    if (key && sealed.value) {
      personal = open(key, aadOf(entity, event.subject), sealed.value) as Record<string, unknown>;
    } else {
      const erased = PERSONAL_FIELDS[entity].erased as Record<string, unknown>;
      personal = Object.fromEntries(sealed.fields.map((field) => [field, erased[field] ?? null]));
    }
    return { ...event, data: { ...data, ...personal } };
  }

  private async load(entity: PersonalEntity, subjects: string[]): Promise<void> {
    const missing = this.cache.missing(entity, subjects);
    for (let i = 0; i < missing.length; i += MAX_SUBJECTS_PER_REQUEST) {
      const chunk = missing.slice(i, i + MAX_SUBJECTS_PER_REQUEST);
      const keys = await this.fetchKeys(entity, chunk);
      for (const subject of chunk) this.cache.set(entity, subject, keys[subject] ? Buffer.from(keys[subject], 'base64') : null);
    }
  }

  private async fetchKeys(entity: PersonalEntity, subjects: string[]): Promise<Record<string, string | null>> {
    const base = this.options.sources[entity];
    if (!base) throw new Error(`no key source configured for ${entity} (PERSONAL_DATA_KEY_SOURCES)`);
    const deadline = Date.now() + this.retryForMs;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await fetch(new URL(KEYS_PATH, base), {
          method: 'POST',
          headers: { 'content-type': 'application/json', [INTERNAL_SECRET_HEADER]: this.options.secret },
          body: JSON.stringify({ entity, subjects }),
          signal: AbortSignal.timeout(5000),
        });
        // A refusal will not pass by asking again; an owner that is starting or restarting will.
        if (response.status === 403 || response.status === 400) throw new KeySourceRefused(`${base} refused the key request: ${response.status} ${await response.text()}`);
        if (!response.ok) throw new Error(`${base} answered ${response.status}`);
        return ((await response.json()) as { keys: Record<string, string | null> }).keys;
      } catch (error) {
        if (error instanceof KeySourceRefused || Date.now() > deadline) throw error;
        this.options.logger.warn({ err: error, entity, attempt }, 'personal-data keys not fetched; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
      }
    }
  }
}

class KeySourceRefused extends Error {
  override name = 'KeySourceRefused';
}

function sealedEntity(event: CloudEvent): PersonalEntity | undefined {
  const data = event.data as { sealed?: unknown } | null;
  if (!data || typeof data !== 'object' || !data.sealed) return undefined;
  return entityOf(event.type);
}
