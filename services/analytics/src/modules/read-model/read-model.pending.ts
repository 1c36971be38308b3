import { duplicateKeyIndexes, isDuplicateKey, type Connection } from '@crm/mongo';

/**
 * One change a fact makes to an aggregate document (a sales day, a customer's value). A fact update
 * stores its changes in the fact's own `pending` list in the same single-document write (FerretDB has
 * no transactions); {@link settlePending} then applies each change exactly once: the target records
 * the op id in `ops` in the same atomic update as the `$inc`, so a retry after a crash sees the id
 * and skips. Once the fact's list is cleared, the op id is pulled from the target again, so `ops`
 * only ever holds changes in flight.
 */
export interface PendingChange {
  opId: string;
  collection: string;
  key: string;
  /** Field paths with `/` between the parts (`a/37`), increments. */
  inc?: Record<string, number>;
  /** Dates moved forward only (`$max`), e.g. a customer's last order. */
  max?: Record<string, Date>;
  /** Dates moved back only (`$min`), e.g. a customer's first order. */
  min?: Record<string, Date>;
  /**
   * Set when the change takes something away that a `$max`/`$min` date may rest on (a cancelled
   * latest order): the owner's `recompute` hook derives the dates again, idempotently.
   */
  recompute?: boolean;
}

export interface SettleHooks {
  recompute?: (change: PendingChange) => Promise<void>;
}

export interface FactWithPending {
  _id: string;
  /** The fact's version: clearing is conditional on it, so changes written by a newer version stay. */
  version: number;
  pending?: PendingChange[];
}

/** Sums two increment maps (dropping zeros, so a no-op change writes nothing). */
export function incDiff(next: Record<string, number>, previous: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(next)) out[key] = value - (previous[key] ?? 0);
  for (const [key, value] of Object.entries(previous)) if (!(key in next)) out[key] = -value;
  for (const key of Object.keys(out)) if (out[key] === 0) delete out[key];
  return out;
}

/** The atomic update of one target: the increments, dates moved one way, and the op ids recorded. */
function updateOf(opIds: string[], inc: Record<string, number> = {}, max: Record<string, Date> = {}, min: Record<string, Date> = {}): Record<string, unknown> {
  const update: Record<string, unknown> = { $push: { ops: { $each: opIds } } };
  const increments = Object.entries(inc).filter(([, n]) => n !== 0);
  // Paths are stored with `/` (a stored key may not contain `.`) and applied as dotted paths.
  if (increments.length) update.$inc = Object.fromEntries(increments.map(([path, n]) => [path.replaceAll('/', '.'), n]));
  if (Object.keys(max).length) update.$max = max;
  if (Object.keys(min).length) update.$min = min;
  return update;
}

/** One change on its own, skipped when its target already holds its op id. */
async function applyChange(connection: Connection, change: PendingChange): Promise<void> {
  try {
    await connection.collection(change.collection).updateOne({ _id: change.key, ops: { $ne: change.opId } } as never, updateOf([change.opId], change.inc, change.max, change.min) as never, { upsert: true });
  } catch (error) {
    // The target exists and already holds the op id, so the upsert tried to insert a second `_id`.
    if (!isDuplicateKey(error)) throw error;
  }
}

interface TargetGroup {
  collection: string;
  key: string;
  inc: Record<string, number>;
  max: Record<string, Date>;
  min: Record<string, Date>;
  changes: PendingChange[];
}

/**
 * Applies the pending changes of facts (one, or a batch's) once each, then clears them from the facts
 * and the targets. The changes to one target document are merged into one update (the sum of the
 * increments, the latest `$max`, the earliest `$min`, every op id pushed), one bulk write per
 * collection. The merged update only applies where the target holds none of its op ids; where it holds
 * some (a retry after a crash that had applied part), the merged update finds nothing, its upsert
 * collides on `_id`, and each change is applied on its own, skipping those already there.
 */
export async function settlePending(connection: Connection, factCollection: string, facts: FactWithPending[], hooks: SettleHooks = {}): Promise<void> {
  const withPending = facts.filter((f) => f.pending?.length);
  if (!withPending.length) return;
  const groups = new Map<string, TargetGroup>();
  for (const change of withPending.flatMap((f) => f.pending!)) {
    const id = `${change.collection}\u0000${change.key}`;
    const group = groups.get(id) ?? { collection: change.collection, key: change.key, inc: {}, max: {}, min: {}, changes: [] };
    for (const [path, n] of Object.entries(change.inc ?? {})) group.inc[path] = (group.inc[path] ?? 0) + n;
    for (const [path, d] of Object.entries(change.max ?? {})) if (!group.max[path] || d > group.max[path]) group.max[path] = d;
    for (const [path, d] of Object.entries(change.min ?? {})) if (!group.min[path] || d < group.min[path]) group.min[path] = d;
    group.changes.push(change);
    groups.set(id, group);
  }
  const byCollection = new Map<string, TargetGroup[]>();
  for (const group of groups.values()) byCollection.set(group.collection, [...(byCollection.get(group.collection) ?? []), group]);
  for (const [collection, list] of byCollection) {
    const writes = list.map((g) => {
      const opIds = g.changes.map((c) => c.opId);
      return { updateOne: { filter: { _id: g.key, ops: { $nin: opIds } }, update: updateOf(opIds, g.inc, g.max, g.min), upsert: true } };
    });
    let collided: number[] = [];
    try {
      await connection.collection(collection).bulkWrite(writes as never, { ordered: false });
    } catch (error) {
      const indexes = duplicateKeyIndexes(error);
      if (!indexes) throw error;
      collided = indexes;
    }
    for (const index of collided) for (const change of list[index]!.changes) await applyChange(connection, change);
  }
  for (const group of groups.values()) {
    const recompute = group.changes.find((c) => c.recompute);
    if (recompute) await hooks.recompute?.(recompute);
  }
  await connection.collection(factCollection).bulkWrite(withPending.map((f) => ({ updateOne: { filter: { _id: f._id, version: f.version }, update: { $set: { pending: [] } } } })) as never, { ordered: false });
  for (const [collection, list] of byCollection) {
    await connection.collection(collection).bulkWrite(list.map((g) => ({ updateOne: { filter: { _id: g.key }, update: { $pullAll: { ops: g.changes.map((c) => c.opId) } } } })) as never, { ordered: false });
  }
}
