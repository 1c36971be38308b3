/** Re-points one module's records from a merged-away customer to the survivor; returns how many changed. */
export type RepointCustomer = (fromId: string, toId: string) => Promise<number>;

/**
 * Every module of a service that stores a `customerId` registers here how to re-point its records
 * when the customers service merges two customers (`customer.merged`). Each function must be
 * idempotent (a redelivered event finds nothing left to move) and write each record with its own event.
 */
export class CustomerLinkRegistry {
  private readonly entries = new Map<string, RepointCustomer>();

  register(module: string, repoint: RepointCustomer): this {
    if (this.entries.has(module)) throw new Error(`customer-link: ${module} is registered twice`);
    this.entries.set(module, repoint);
    return this;
  }

  get modules(): string[] {
    return [...this.entries.keys()];
  }

  /** Runs every module's function (one after the other); the counts by module. */
  async repoint(fromId: string, toId: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const [module, repoint] of this.entries) counts[module] = await repoint(fromId, toId);
    return counts;
  }
}
