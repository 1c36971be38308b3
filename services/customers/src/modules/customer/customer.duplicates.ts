import type { DuplicateProbe, DuplicateReason } from './customer.service.js';

/** The values that make two customers likely the same (CUS-6), each tagged with its reason. */
export function duplicateKeysOf(customer: Omit<DuplicateProbe, '_id'>): Array<[DuplicateReason, string]> {
  const keys: Array<[DuplicateReason, string]> = [];
  for (const phone of customer.phones ?? []) keys.push(['SAME_PHONE', `p:${phone.number}`]);
  if (customer.email) keys.push(['SAME_EMAIL', `e:${customer.email}`]);
  if (customer.identity) keys.push(['SAME_IDENTITY_NUMBER', `i:${customer.identity.hash}`]);
  if (customer.organization) keys.push(['SIMILAR_NAME_SAME_ORGANIZATION', `n:${customer.nameSortKey}\u0000${customer.organization}`]);
  return keys;
}

/** cyrb53: a fast 53-bit string hash (public domain), so keys are held as numbers, not strings. */
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * The duplicate keys of many customers in memory, for an import job: built by one pass over the
 * customers the importer can see, then grown by every row imported, so each row is checked without
 * a query. (One query per batch is what MongoDB's indexes make cheap, but FerretDB evaluates a
 * 1,000-value `$in` against every stored document: a 10,000-row import took 5.6 times as long.)
 * About 100 bytes per known customer; a 53-bit hash collision (odds ~1e-10 per lookup at a million
 * keys) would at worst name a wrong candidate in a report line.
 */
export class DuplicateIndex {
  private readonly owners = new Map<number, string>();

  /** The customer that first had each of these keys, if any, with the reasons it matched. */
  match(keys: Array<[DuplicateReason, string]>): Map<string, DuplicateReason[]> {
    const matches = new Map<string, DuplicateReason[]>();
    for (const [reason, key] of keys) {
      const owner = this.owners.get(hash53(key));
      if (owner === undefined) continue;
      const reasons = matches.get(owner) ?? [];
      if (!reasons.includes(reason)) reasons.push(reason);
      matches.set(owner, reasons);
    }
    return matches;
  }

  add(customerId: string, keys: Array<[DuplicateReason, string]>): void {
    for (const [, key] of keys) {
      const hashed = hash53(key);
      if (!this.owners.has(hashed)) this.owners.set(hashed, customerId);
    }
  }

  get size(): number {
    return this.owners.size;
  }
}
