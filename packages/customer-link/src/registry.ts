/** Re-points one module's records from a merged-away customer to the survivor; returns how many changed. */
export type RepointCustomer = (fromId: string, toId: string) => Promise<number>;

/**
 * Every module of a service that stores a `customerId` registers here how to re-point its records
 * when the customers service merges two customers (`customer.merged`). Each function must be
 * idempotent (a redelivered event finds nothing left to move) and write each record with its own event.
 */
/** What erasers write in place of a person's free text (right to erasure). */
export const ERASED_TEXT = '[erased]';

/** Erases one module's copies of a person's data (right to erasure); returns how many records changed. */
export type EraseCustomer = (customerId: string) => Promise<number>;

export class CustomerLinkRegistry {
  private readonly entries = new Map<string, RepointCustomer>();
  private readonly erasers = new Map<string, EraseCustomer>();

  register(module: string, repoint: RepointCustomer): this {
    if (this.entries.has(module)) throw new Error(`customer-link: ${module} is registered twice`);
    this.entries.set(module, repoint);
    return this;
  }

  get modules(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * How a module erases what it holds about a person when the customers service erases them
   * (`customer.erased`). Idempotent: a redelivered event finds nothing left to erase.
   */
  registerErasure(module: string, erase: EraseCustomer): this {
    if (this.erasers.has(module)) throw new Error(`customer-link: ${module} registers erasure twice`);
    this.erasers.set(module, erase);
    return this;
  }

  get erasingModules(): string[] {
    return [...this.erasers.keys()];
  }

  /** Runs every module's erasure (one after the other); the counts by module. */
  async erase(customerId: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const [module, erase] of this.erasers) counts[module] = await erase(customerId);
    return counts;
  }

  /** Runs every module's function (one after the other); the counts by module. */
  async repoint(fromId: string, toId: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const [module, repoint] of this.entries) counts[module] = await repoint(fromId, toId);
    return counts;
  }
}
