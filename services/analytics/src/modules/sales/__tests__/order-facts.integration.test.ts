import { afterAll, describe, expect, it } from 'vitest';
import { createEvent } from '@crm/events';
import { connectMongo } from '@crm/mongo';
import { testInfra, uniqueName } from '@crm/testing';
import { customerValueModels } from '../../customer-value/customer-value.model.js';
import { applyOrderEvent, applyOrderEvents } from '../sales.consumer.js';
import { salesModels } from '../sales.model.js';

/** Order facts folded straight into a real database (no Kafka): the customer's first and last order. */
const infra = await testInfra();
const connection = await connectMongo({ url: infra.mongoUrl, dbName: uniqueName('analytics_orders') });
const models = salesModels(connection);
const values = customerValueModels(connection).customerValues;

const batchConnection = await connectMongo({ url: infra.mongoUrl, dbName: uniqueName('analytics_batches') });
const batchModels = salesModels(batchConnection);

afterAll(async () => {
  for (const c of [connection, batchConnection]) {
    await c.dropDatabase();
    await c.close();
  }
});

const orderEvent = (type: string, orderId: string, customerId: string, time: Date, version: number, status = 'APPROVED') =>
  createEvent({
    source: '/crm/sales',
    type,
    subject: orderId,
    time,
    data: {
      orderId, customerId, ownerId: 'u1', department: 'sales', campaignCode: null, status, paymentStatus: 'UNPAID', currency: 'CNY',
      lines: [{ productId: 'p1', quantity: 1, lineTotal: { amountMinor: 1000, currency: 'CNY' } }], totals: { total: { amountMinor: 1000, currency: 'CNY' } }, version,
    },
  });

describe('order facts and a customer first and last order', () => {
  it('keeps the first order date after the only counted order was cancelled and another was placed', async () => {
    const customerId = uniqueName('c');
    const [jan, mar] = [new Date('2025-01-10T02:00:00Z'), new Date('2025-03-05T02:00:00Z')];
    await applyOrderEvent(models, connection, orderEvent('order.placed', `${customerId}-a`, customerId, jan, 1));
    await applyOrderEvent(models, connection, orderEvent('order.cancelled', `${customerId}-a`, customerId, new Date(jan.getTime() + 3600_000), 2, 'CANCELLED'));
    const emptied = await values.findById(customerId).lean().exec();
    expect(emptied).toMatchObject({ orders: 0 });
    // No counted order: the dates are gone, not null (a stored null would win every later `$min`).
    expect(emptied).not.toHaveProperty('firstOrderAt');
    expect(emptied).not.toHaveProperty('lastOrderAt');

    await applyOrderEvent(models, connection, orderEvent('order.placed', `${customerId}-b`, customerId, mar, 1));
    const value = await values.findById(customerId).lean().exec();
    expect(value).toMatchObject({ orders: 1, firstOrderAt: mar, lastOrderAt: mar });
  });

  it('moves the first and last order back when the earliest and latest orders stop counting', async () => {
    const customerId = uniqueName('c');
    const dates = ['2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z', '2025-03-01T00:00:00Z'].map((d) => new Date(d));
    for (const [i, at] of dates.entries()) await applyOrderEvent(models, connection, orderEvent('order.placed', `${customerId}-${i}`, customerId, at, 1));
    expect(await values.findById(customerId).lean().exec()).toMatchObject({ orders: 3, firstOrderAt: dates[0], lastOrderAt: dates[2] });
    await applyOrderEvent(models, connection, orderEvent('order.cancelled', `${customerId}-0`, customerId, new Date(), 2, 'CANCELLED'));
    await applyOrderEvent(models, connection, orderEvent('order.rejected', `${customerId}-2`, customerId, new Date(), 2, 'REJECTED'));
    expect(await values.findById(customerId).lean().exec()).toMatchObject({ orders: 1, firstOrderAt: dates[1], lastOrderAt: dates[1] });
  });

  it('ends with the same dates whichever order the events of different orders arrive in', async () => {
    // Events of different orders sit on different partitions: a cancellation may come before or after
    // the other orders of its customer. The consumer handles one event at a time.
    const first = new Date('2025-05-01T00:00:00Z');
    const later = Array.from({ length: 4 }, (_, i) => new Date(Date.UTC(2025, 5, 1 + i)));
    for (const rotation of [0, 1, 2, 3, 4]) {
      const customerId = uniqueName('c');
      await applyOrderEvent(models, connection, orderEvent('order.placed', `${customerId}-x`, customerId, first, 1));
      const events = [
        orderEvent('order.cancelled', `${customerId}-x`, customerId, new Date(), 2, 'CANCELLED'),
        ...later.map((at, i) => orderEvent('order.placed', `${customerId}-${i}`, customerId, at, 1)),
      ];
      for (const event of [...events.slice(rotation), ...events.slice(0, rotation)]) await applyOrderEvent(models, connection, event);
      expect(await values.findById(customerId).lean().exec()).toMatchObject({ orders: 4, firstOrderAt: later[0], lastOrderAt: later[3] });
    }
  });

  it('gives the same facts, sales days and customer values in batches as event by event, and a batch applied twice changes nothing', async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const customers = Array.from({ length: 5 }, () => uniqueName('bc'));
    const events = [];
    for (let i = 0; i < 60; i += 1) {
      const orderId = uniqueName('bo');
      const customerId = customers[Math.floor(random() * customers.length)]!;
      const at = new Date(Date.UTC(2025, 6, 1 + Math.floor(random() * 3), Math.floor(random() * 24)));
      events.push(orderEvent('order.placed', orderId, customerId, at, 1));
      const roll = random();
      if (roll < 0.3) events.push(orderEvent('order.cancelled', orderId, customerId, at, 2, 'CANCELLED'));
      else if (roll < 0.5) events.push(orderEvent('order.shipped', orderId, customers[(customers.indexOf(customerId) + 1) % customers.length]!, at, 3, 'SHIPPED'));
      if (random() < 0.2) events.push(orderEvent('order.placed', orderId, customerId, at, 1)); // an older version again
    }
    for (const event of events) await applyOrderEvent(models, connection, event);
    for (let i = 0; i < events.length; ) {
      const size = 1 + Math.floor(random() * 25);
      await applyOrderEvents(batchModels, batchConnection, events.slice(i, i + size));
      i += size;
    }
    await applyOrderEvents(batchModels, batchConnection, events.slice(0, 40));
    // Event by event leaves zeros where an order was added and taken away again; a batch never adds it.
    const dropZeros = (value: unknown): unknown =>
      value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== 0).map(([k, v]) => [k, dropZeros(v)])) : value;
    const read = async (c: typeof connection, name: string, filter: Record<string, unknown>) =>
      (await c.collection(name).find(filter, { projection: { ops: 0, updatedAt: 0 } }).sort({ _id: 1 }).toArray()).map((d) => dropZeros(JSON.parse(JSON.stringify(d))));
    const days = { _id: { $in: ['CNY|20250630', 'CNY|20250701', 'CNY|20250702', 'CNY|20250703'] } };
    const mine = { _id: { $in: customers } };
    // The earlier tests of this file placed no order in July 2025.
    const byEvent = await read(connection, 'sales_days', days);
    expect(byEvent.length).toBeGreaterThan(1);
    expect(await read(batchConnection, 'sales_days', days)).toEqual(byEvent);
    expect(await read(batchConnection, 'customer_values', mine)).toEqual(await read(connection, 'customer_values', mine));
    const ids = { _id: { $in: [...new Set(events.map((e) => e.subject))] } };
    expect(await read(batchConnection, 'order_facts', ids)).toEqual(await read(connection, 'order_facts', ids));
    expect(await batchConnection.collection('customer_values').countDocuments({ 'ops.0': { $exists: true } })).toBe(0);
  });
});

