import { requireRole, type AuthUser } from '@crm/auth';
import type { Connection } from '@crm/mongo';
import type { CustomerValueRecord } from '../customer-value/customer-value.model.js';
import { CUSTOMER_VALUES } from '../customer-value/customer-value.model.js';
import { VALUE_READERS } from '../customer-value/customer-value.service.js';
import { DAY_MS } from '../read-model/zoned-time.js';
import { boundedInt } from '../report/report.range.js';
import { ORDER_FACTS, type OrderFactRecord } from '../sales/sales.model.js';
import { clusterCustomers, PairCounter, type RfmPoint } from './patterns.formulas.js';
import type { CustomerClustersSnapshot, PatternModels, ProductPairRecord, ProductPairsSnapshot } from './patterns.model.js';

export interface PatternOptions {
  currency: string;
  /** Orders placed this many days back count for products bought together. */
  windowDays: number;
  clusters: number;
}

/** A pair as seen from `productId` when one was asked for (confidence = P(other | product)). */
export interface ProductPairView {
  productId: string;
  otherProductId: string;
  orders: number;
  support: number;
  confidence: number;
  reverseConfidence: number;
  lift: number;
}

/** Products bought together and customer clusters (ANA-9), recomputed on a schedule. */
export class PatternService {
  constructor(
    private readonly models: PatternModels,
    private readonly connection: Connection,
    private readonly options: PatternOptions,
  ) {}

  /** Counts every pair of products of the counted orders in the window (one pass over the order facts). */
  async computeProductPairs(now = new Date()): Promise<ProductPairsSnapshot> {
    const counter = new PairCounter();
    const since = new Date(now.getTime() - this.options.windowDays * DAY_MS);
    const facts = this.connection.collection<OrderFactRecord>(ORDER_FACTS).find({ counted: true, placedAt: { $gte: since } }, { projection: { lines: 1 } });
    for await (const fact of facts) counter.add((fact.lines ?? []).map((l) => l.productId));
    const snapshot: ProductPairsSnapshot = { _id: 'product-pairs', computedAt: now, baskets: counter.baskets, productOrders: Object.fromEntries(counter.products), pairs: counter.result() };
    await this.models.snapshots.collection.replaceOne({ _id: snapshot._id } as never, snapshot as never, { upsert: true });
    return snapshot;
  }

  /** Clusters the customers with orders on recency, frequency and spend; stores the clusters and each customer's. */
  async computeClusters(now = new Date()): Promise<CustomerClustersSnapshot> {
    const currency = this.options.currency;
    const points: RfmPoint[] = [];
    const values = this.connection.collection<CustomerValueRecord>(CUSTOMER_VALUES).find({ orders: { $gt: 0 } }, { projection: { orders: 1, amount: 1, lastOrderAt: 1 } });
    for await (const v of values) {
      if (!v.lastOrderAt || !v.orders) continue;
      points.push({ customerId: v._id, recencyDays: Math.max(0, Math.floor((now.getTime() - v.lastOrderAt.getTime()) / DAY_MS)), orders: v.orders, spendMinor: v.amount?.[currency] ?? 0 });
    }
    const { clusters, assignment } = clusterCustomers(points, this.options.clusters);
    const snapshot: CustomerClustersSnapshot = { _id: 'customer-clusters', computedAt: now, currency, customers: points.length, clusters };
    const writes = [...assignment].map(([customerId, cluster]) => ({ replaceOne: { filter: { _id: customerId }, replacement: { _id: customerId, cluster, computedAt: now }, upsert: true } }));
    for (let i = 0; i < writes.length; i += 1000) await this.models.customerClusters.collection.bulkWrite(writes.slice(i, i + 1000) as never, { ordered: false });
    // Customers who no longer have orders (cancelled, merged away) leave their cluster.
    await this.models.customerClusters.deleteMany({ computedAt: { $ne: now } }).exec();
    await this.models.snapshots.collection.replaceOne({ _id: snapshot._id } as never, snapshot as never, { upsert: true });
    return snapshot;
  }

  private async snapshot<T>(id: string): Promise<T | null> {
    return (await this.models.snapshots.findById(id).lean().exec()) as T | null;
  }

  /** The strongest pairs, or those with one product (seen from it), as of the last run. */
  async productPairs(user: AuthUser, args: { productId?: string | null; limit?: number | null }) {
    requireRole(user, VALUE_READERS);
    const limit = boundedInt('limit', args.limit, 20, 1, 500);
    const snapshot = await this.snapshot<ProductPairsSnapshot>('product-pairs');
    const pairs = snapshot?.pairs ?? [];
    const view = (p: ProductPairRecord, from: string): ProductPairView =>
      from === p.a
        ? { productId: p.a, otherProductId: p.b, orders: p.orders, support: p.support, confidence: p.confidenceAB, reverseConfidence: p.confidenceBA, lift: p.lift }
        : { productId: p.b, otherProductId: p.a, orders: p.orders, support: p.support, confidence: p.confidenceBA, reverseConfidence: p.confidenceAB, lift: p.lift };
    const rows = args.productId
      ? pairs.filter((p) => p.a === args.productId || p.b === args.productId).map((p) => view(p, args.productId!)).sort((x, y) => y.confidence - x.confidence || y.lift - x.lift || x.otherProductId.localeCompare(y.otherProductId))
      : pairs.map((p) => view(p, p.a));
    return { computedAt: snapshot?.computedAt ?? null, baskets: snapshot?.baskets ?? 0, productOrders: args.productId ? (snapshot?.productOrders?.[args.productId] ?? 0) : null, pairs: rows.slice(0, limit) };
  }

  async customerClusters(user: AuthUser) {
    requireRole(user, VALUE_READERS);
    const snapshot = await this.snapshot<CustomerClustersSnapshot>('customer-clusters');
    const currency = snapshot?.currency ?? this.options.currency;
    return {
      computedAt: snapshot?.computedAt ?? null,
      currency,
      customers: snapshot?.customers ?? 0,
      clusters: (snapshot?.clusters ?? []).map((c) => ({ ...c, spend: { amountMinor: c.spendMinor, currency } })),
    };
  }

  /** A customer's cluster as of the last run; null without orders or before the first run. */
  async clusterOf(customerId: string) {
    const [assigned, snapshot] = await Promise.all([this.models.customerClusters.findById(customerId).lean().exec(), this.snapshot<CustomerClustersSnapshot>('customer-clusters')]);
    const cluster = assigned && snapshot?.clusters.find((c) => c.id === assigned.cluster);
    return cluster ? { ...cluster, spend: { amountMinor: cluster.spendMinor, currency: snapshot!.currency } } : null;
  }
}
