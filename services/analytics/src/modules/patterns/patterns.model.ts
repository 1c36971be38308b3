import { Schema, type Connection, type Model } from 'mongoose';

export const PATTERN_SNAPSHOTS = 'pattern_snapshots';
export const CUSTOMER_CLUSTERS = 'customer_clusters';

/** Two products in the same counted order: how often, and how much more often than by chance. */
export interface ProductPairRecord {
  /** The two product ids, `a` < `b`. */
  a: string;
  b: string;
  /** Orders holding both. */
  orders: number;
  /** orders(a ∧ b) ÷ all orders with products. */
  support: number;
  /** P(b | a) and P(a | b). */
  confidenceAB: number;
  confidenceBA: number;
  /** support ÷ (P(a) × P(b)): above 1 the two go together more than chance would have it. */
  lift: number;
}

export interface ProductPairsSnapshot {
  _id: 'product-pairs';
  computedAt: Date;
  /** Counted orders with at least one product line (the baskets). */
  baskets: number;
  /** How many orders each product was in (for pairs asked about one product). */
  productOrders: Record<string, number>;
  /** The strongest pairs (at least {@link MIN_PAIR_ORDERS} orders), by orders then lift. */
  pairs: ProductPairRecord[];
}

export interface ClusterRecord {
  /** 1..k, by average spend, highest first. */
  id: number;
  label: string;
  customers: number;
  /** The cluster's centre in the original units. */
  recencyDays: number;
  orders: number;
  spendMinor: number;
}

export interface CustomerClustersSnapshot {
  _id: 'customer-clusters';
  computedAt: Date;
  currency: string;
  customers: number;
  clusters: ClusterRecord[];
}

/** One customer's cluster as of the last run (`computedAt` tells stale assignments apart). */
export interface CustomerClusterRecord {
  _id: string;
  cluster: number;
  computedAt: Date;
}

const snapshotSchema = new Schema<{ _id: string }>({ _id: String }, { collection: PATTERN_SNAPSHOTS, versionKey: false, strict: false });
const customerClusterSchema = new Schema<CustomerClusterRecord>({ _id: String, cluster: Number, computedAt: Date }, { collection: CUSTOMER_CLUSTERS, versionKey: false });

export function patternModels(connection: Connection) {
  return {
    snapshots: connection.model<{ _id: string }>('PatternSnapshot', snapshotSchema),
    customerClusters: connection.model<CustomerClusterRecord>('CustomerCluster', customerClusterSchema) as Model<CustomerClusterRecord>,
  };
}
export type PatternModels = ReturnType<typeof patternModels>;
