import { createEvent, type CloudEvent } from '@crm/events';
import type { Money } from '@crm/money';
import type { ExpenseRecord, ExpenseVisibility } from './expense.model.js';

/** Every event the expense aggregate publishes (topic `<prefix>.expense`; key = expense id). */
export const ExpenseEventType = {
  RECORDED: 'expense.recorded',
  UPDATED: 'expense.updated',
  DELETED: 'expense.deleted',
} as const;

export const EXPENSE_EVENT_SOURCE = '/crm/sales';

/** What other services may know of an expense (the free-text notes stay here). */
export interface ExpenseSnapshot {
  expenseId: string;
  customerId: string;
  subject: string;
  amount: Money;
  /** YYYY-MM-DD. */
  date: string;
  visibility: ExpenseVisibility;
  ownerId: string;
  department: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type ExpenseRecordedData = ExpenseSnapshot;
export interface ExpenseUpdatedData extends ExpenseSnapshot {
  changed: string[];
}
export interface ExpenseDeletedData extends ExpenseSnapshot {
  deletedBy: string;
  deletedAt: string;
}

function snapshot(expense: ExpenseRecord): ExpenseSnapshot {
  return {
    expenseId: expense._id.toHexString(),
    customerId: expense.customerId,
    subject: expense.subject,
    amount: { amountMinor: expense.amount.amountMinor, currency: expense.amount.currency },
    date: expense.date.toISOString().slice(0, 10),
    visibility: expense.visibility,
    ownerId: expense.ownerId,
    department: expense.department,
    version: expense.version,
    createdAt: expense.createdAt.toISOString(),
    updatedAt: expense.updatedAt.toISOString(),
  };
}

const event = <T>(type: string, expense: ExpenseRecord, data: T, time: Date): CloudEvent<T> =>
  createEvent({ source: EXPENSE_EVENT_SOURCE, type, subject: expense._id.toHexString(), time, data });

export function expenseRecorded(expense: ExpenseRecord): CloudEvent<ExpenseRecordedData> {
  return event(ExpenseEventType.RECORDED, expense, snapshot(expense), expense.createdAt);
}

export function expenseUpdated(expense: ExpenseRecord, changed: string[]): CloudEvent<ExpenseUpdatedData> {
  return event(ExpenseEventType.UPDATED, expense, { ...snapshot(expense), changed }, expense.updatedAt);
}

export function expenseDeleted(expense: ExpenseRecord): CloudEvent<ExpenseDeletedData> {
  return event(ExpenseEventType.DELETED, expense, { ...snapshot(expense), deletedBy: expense.deletedBy ?? '', deletedAt: (expense.deletedAt ?? expense.updatedAt).toISOString() }, expense.updatedAt);
}
