import { Types } from 'mongoose';
import { z } from 'zod';
import { departmentsOf, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { appendEvents, OUTBOX_FIELD, type CloudEvent, type OutboxRelay } from '@crm/events';
import { formatMoney, moneySchema } from '@crm/money';
import { paginate, PerKeySerializer, type Page, type PageArgs, type PageSort } from '@crm/mongo';
import { isSalesStaff, ownedReadFilter, ownershipOf } from '../../shared/ownership.js';
import { expenseDeleted, expenseRecorded, expenseUpdated } from './expense.events.js';
import { ExpenseException } from './expense.errors.js';
import { EXPENSE_VISIBILITIES, type ExpenseModel, type ExpenseRecord } from './expense.model.js';

const OBJECT_ID = /^[0-9a-f]{24}$/i;
/** Newest day first; the id breaks ties (keyset paging). */
const BY_DATE: PageSort = { field: 'date', direction: -1 };
/** At most this many expenses go in one `deleteExpenses` call (`hasMore` says when more matched). */
export const MAX_BATCH_DELETE = 500;
/** Deletes run this many at a time. */
const DELETE_CONCURRENCY = 8;

export const EXPENSE_SEARCH_FIELDS = ['SUBJECT', 'NOTES', 'OWNER_NAME'] as const;
export type ExpenseSearchField = (typeof EXPENSE_SEARCH_FIELDS)[number];
const SEARCH_PATHS: Record<ExpenseSearchField, keyof ExpenseRecord> = { SUBJECT: 'subject', NOTES: 'notes', OWNER_NAME: 'ownerName' };

export const EXPENSE_COLUMNS = ['ID', 'SUBJECT', 'AMOUNT', 'CURRENCY', 'DATE', 'VISIBILITY', 'OWNER', 'NOTES', 'CUSTOMER_ID', 'CREATED_AT', 'UPDATED_AT'] as const;
export type ExpenseColumn = (typeof EXPENSE_COLUMNS)[number];

/** A calendar date YYYY-MM-DD as a Date at 00:00 UTC. */
const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'A date YYYY-MM-DD')
  .transform((value, ctx) => {
    const date = new Date(`${value}T00:00:00.000Z`);
    if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
      ctx.addIssue({ code: 'custom', message: 'Not a calendar date' });
      return z.NEVER;
    }
    return date;
  });
/** The day of an expense: not in the future (a day of slack for zones east of UTC). */
const expenseDate = calendarDate.refine((date) => date.getTime() <= Date.now() + 24 * 3600 * 1000, 'Must not be in the future');

const fields = {
  subject: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
  amount: moneySchema({ nonNegative: false }).refine((money) => money.amountMinor > 0, { message: 'Must be more than zero', path: ['amountMinor'] }),
  date: expenseDate,
  customerId: z.string().regex(OBJECT_ID, 'Not a customer id').transform((id) => id.toLowerCase()),
  visibility: z.enum(EXPENSE_VISIBILITIES),
  notes: z
    .string()
    .trim()
    .max(2000, 'At most 2000 characters')
    .nullish()
    .transform((value) => (value ? value : null)),
};

export const recordExpenseInput = z.object({ ...fields, visibility: fields.visibility.nullish().transform((value) => value ?? 'PRIVATE') });
export const updateExpenseInput = z.object({
  subject: fields.subject.optional(),
  amount: fields.amount.optional(),
  date: fields.date.optional(),
  customerId: fields.customerId.optional(),
  visibility: fields.visibility.optional(),
  notes: fields.notes.optional(),
});
export type RecordExpenseInput = z.input<typeof recordExpenseInput>;
/** As GraphQL sends it: any field may be null (refused for all but notes). */
export type UpdateExpenseInput = { [K in keyof z.input<typeof updateExpenseInput>]?: z.input<typeof updateExpenseInput>[K] | null };

export const expenseQueryInput = z.object({
  filter: z
    .object({
      customerId: z.string().regex(OBJECT_ID, 'Not a customer id').nullish(),
      visibility: z.enum(EXPENSE_VISIBILITIES).nullish(),
      ownerId: z.string().min(1).max(64).nullish(),
      dateFrom: calendarDate.nullish(),
      dateTo: calendarDate.nullish(),
    })
    .nullish(),
  search: z.string().trim().min(1, 'Nothing to search for').max(100, 'At most 100 characters').nullish(),
  searchFields: z.array(z.enum(EXPENSE_SEARCH_FIELDS)).min(1, 'At least one field').max(EXPENSE_SEARCH_FIELDS.length).nullish(),
});
export type ExpenseQueryInput = z.input<typeof expenseQueryInput>;

export interface ExpenseTable {
  columns: ExpenseColumn[];
  rows: Array<{ id: string; cells: Array<string | null> }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export interface BatchDeleteResult {
  /** Visible expenses the filter and search found. */
  matched: number;
  /** Of those, deleted now. */
  deleted: number;
  /** Of those, visible to the caller but not theirs to delete (left as they are). */
  notPermitted: number;
  /** More deletable matches remain (at most MAX_BATCH_DELETE go per call): call again. */
  hasMore: boolean;
}

function invalid(issues: z.core.$ZodIssue[], prefix = 'input'): never {
  throw new ExpenseException('EXPENSE_INVALID_INPUT', 'Invalid expense', fieldProblems(issues, prefix));
}

/** `text` as a literal inside a regular expression. */
function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * Who sees which expenses (SAL-7): admins all; everyone who owns expenses their own (private ones
 * too); public ones to whoever reads the owner's sales records (`ownedReadFilter`: the rep's teams,
 * the manager's department, analysts all). Private ones: only the owner and admins.
 */
export function expenseReadFilter(user: AuthUser): Record<string, unknown> | null {
  if (user.roles.includes(Role.ADMIN)) return {};
  const clauses: Record<string, unknown>[] = [];
  if (isSalesStaff(user)) clauses.push({ ownerId: user.id });
  const owned = ownedReadFilter(user);
  if (owned) clauses.push({ $and: [{ visibility: 'PUBLIC' }, owned] });
  if (clauses.length === 0) return null;
  return clauses.length === 1 ? clauses[0]! : { $or: clauses };
}

/** Who may change or delete which expenses: admins all; the owner; a sales manager the public ones of their department. */
export function expenseWriteFilter(user: AuthUser): Record<string, unknown> | null {
  if (user.roles.includes(Role.ADMIN)) return {};
  if (!isSalesStaff(user)) return null;
  const clauses: Record<string, unknown>[] = [{ ownerId: user.id }];
  if (user.roles.includes(Role.SALES_MANAGER)) clauses.push({ visibility: 'PUBLIC', department: { $in: departmentsOf(user) } });
  return clauses.length === 1 ? clauses[0]! : { $or: clauses };
}

const dateText = (date: Date) => date.toISOString().slice(0, 10);
const decimalOf = (money: ExpenseRecord['amount']) => formatMoney(money).split(' ')[0]!;

/** One cell of the expense table as text (a grid shows strings; typed values are on `Expense`). */
function cellOf(expense: ExpenseRecord, column: ExpenseColumn): string | null {
  switch (column) {
    case 'ID':
      return expense._id.toHexString();
    case 'SUBJECT':
      return expense.subject;
    case 'AMOUNT':
      return decimalOf(expense.amount);
    case 'CURRENCY':
      return expense.amount.currency;
    case 'DATE':
      return dateText(expense.date);
    case 'VISIBILITY':
      return expense.visibility;
    case 'OWNER':
      return expense.ownerName;
    case 'NOTES':
      return expense.notes ?? null;
    case 'CUSTOMER_ID':
      return expense.customerId;
    case 'CREATED_AT':
      return expense.createdAt.toISOString();
    case 'UPDATED_AT':
      return expense.updatedAt.toISOString();
  }
}

/** The one facade resolvers call for expenses (SAL-7). */
export class ExpenseService {
  /** Writes to one expense, by id; also given to the outbox relay (see app.ts). */
  readonly serial = new PerKeySerializer();

  constructor(
    private readonly expenses: ExpenseModel,
    private readonly relay: OutboxRelay,
  ) {}

  async record(input: RecordExpenseInput, user: AuthUser): Promise<ExpenseRecord> {
    if (!isSalesStaff(user)) throw new ExpenseException('EXPENSE_FORBIDDEN', 'Only sales staff record expenses');
    const parsed = recordExpenseInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const now = new Date();
    const record: ExpenseRecord = {
      ...parsed.data,
      _id: new Types.ObjectId(),
      ...ownershipOf(user),
      ownerName: user.name ?? user.username,
      version: 1,
      deletedAt: null,
      deletedBy: null,
      createdAt: now,
      updatedAt: now,
    };
    // The record and its event are one insert.
    await this.expenses.collection.insertOne({ ...record, [OUTBOX_FIELD]: [expenseRecorded(record)] } as never);
    this.relay.notify(this.expenses, record._id);
    return record;
  }

  async get(id: string, user: AuthUser): Promise<ExpenseRecord | null> {
    const visible = expenseReadFilter(user);
    if (!visible) throw new ExpenseException('EXPENSE_FORBIDDEN', 'Your role cannot see expenses');
    if (!OBJECT_ID.test(id)) return null;
    return this.expenses.findOne({ $and: [{ _id: new Types.ObjectId(id), deletedAt: null }, visible] }).lean<ExpenseRecord>().exec();
  }

  /** Visible expenses, newest day first, filtered and searched. */
  async list(args: PageArgs & ExpenseQueryInput, user: AuthUser): Promise<Page<ExpenseRecord>> {
    return paginate(this.expenses, this.query(args, user), args, { sort: BY_DATE });
  }

  /** `Customer.expenses`: one customer's expenses the caller may see. */
  async forCustomer(customerId: string, args: PageArgs, user: AuthUser): Promise<Page<ExpenseRecord>> {
    return this.list({ ...args, filter: { customerId } }, user);
  }

  /** One customer's expenses as rows of the columns the caller chose, in that order. */
  async table(customerId: string, columns: string[], args: PageArgs & Omit<ExpenseQueryInput, 'filter'>, user: AuthUser): Promise<ExpenseTable> {
    const parsedColumns = z
      .array(z.enum(EXPENSE_COLUMNS))
      .min(1, 'At least one column')
      .max(EXPENSE_COLUMNS.length)
      .refine((list) => new Set(list).size === list.length, 'Each column once')
      .safeParse(columns);
    if (!parsedColumns.success) invalid(parsedColumns.error.issues, 'columns');
    const page = await this.list({ ...args, filter: { customerId } }, user);
    return {
      columns: parsedColumns.data,
      rows: page.items.map((expense) => ({ id: expense._id.toHexString(), cells: parsedColumns.data.map((column) => cellOf(expense, column)) })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
      totalCount: page.totalCount,
    };
  }

  /** The MongoDB filter of a list: visible, not deleted, the filter's fields, the search on the chosen fields. */
  private query(args: ExpenseQueryInput, user: AuthUser): Record<string, unknown> {
    const visible = expenseReadFilter(user);
    if (!visible) throw new ExpenseException('EXPENSE_FORBIDDEN', 'Your role cannot see expenses');
    const parsed = expenseQueryInput.safeParse({ filter: args.filter, search: args.search, searchFields: args.searchFields });
    if (!parsed.success) invalid(parsed.error.issues, '');
    const { filter, search, searchFields } = parsed.data;
    const clauses: Record<string, unknown>[] = [{ deletedAt: null }, visible];
    if (filter?.customerId) clauses.push({ customerId: filter.customerId.toLowerCase() });
    if (filter?.visibility) clauses.push({ visibility: filter.visibility });
    if (filter?.ownerId) clauses.push({ ownerId: filter.ownerId });
    if (filter?.dateFrom) clauses.push({ date: { $gte: filter.dateFrom } });
    if (filter?.dateTo) clauses.push({ date: { $lte: filter.dateTo } });
    if (search) {
      const pattern = new RegExp(escapeRegex(search), 'i');
      const paths = (searchFields?.length ? [...new Set(searchFields)] : EXPENSE_SEARCH_FIELDS).map((field) => SEARCH_PATHS[field]);
      clauses.push(paths.length === 1 ? { [paths[0]!]: pattern } : { $or: paths.map((path) => ({ [path]: pattern })) });
    }
    return { $and: clauses };
  }

  /** Reads an expense the caller may change: NOT_FOUND if they cannot see it, FORBIDDEN if they see but may not change it. */
  private async writable(id: string, user: AuthUser, expectedVersion?: number | null): Promise<ExpenseRecord> {
    const allowed = expenseWriteFilter(user);
    if (!allowed) throw new ExpenseException('EXPENSE_FORBIDDEN', 'Your role cannot change expenses');
    const current = await this.get(id, user);
    if (!current) throw new ExpenseException('EXPENSE_NOT_FOUND', `No expense ${id}`);
    if (!(await this.expenses.exists({ $and: [{ _id: current._id }, allowed] }))) {
      throw new ExpenseException('EXPENSE_FORBIDDEN', 'Only its owner, an admin or a sales manager of its department may change this expense');
    }
    if (expectedVersion != null && expectedVersion !== current.version) {
      throw new ExpenseException('EXPENSE_VERSION_CONFLICT', `Expected version ${expectedVersion}, found ${current.version}`, [
        { field: 'expectedVersion', message: `The expense is at version ${current.version}; reload it` },
      ]);
    }
    return current;
  }

  /**
   * Applies `changes` and its event in one update, conditional on the version read, on not being
   * deleted, and on the caller still being allowed to change it.
   */
  private async commit(current: ExpenseRecord, changes: Partial<ExpenseRecord>, event: (next: ExpenseRecord) => CloudEvent, allowed: Record<string, unknown>): Promise<ExpenseRecord | null> {
    const next: ExpenseRecord = { ...current, ...changes, version: current.version + 1, updatedAt: new Date() };
    const result = await this.expenses.collection.updateOne(
      { $and: [{ _id: current._id, version: current.version, deletedAt: null }, allowed] } as never,
      { $set: { ...changes, version: next.version, updatedAt: next.updatedAt }, ...appendEvents([event(next)]) } as never,
    );
    if (result.matchedCount === 0) return null;
    this.relay.notify(this.expenses, current._id);
    return next;
  }

  async update(id: string, input: UpdateExpenseInput, user: AuthUser, expectedVersion?: number | null): Promise<ExpenseRecord> {
    const parsed = updateExpenseInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const key = OBJECT_ID.test(id) ? id.toLowerCase() : id;
    return this.serial.run(key, async () => {
      const current = await this.writable(id, user, expectedVersion);
      const changes: Partial<ExpenseRecord> = {};
      for (const [name, value] of Object.entries(parsed.data)) {
        if (value === undefined) continue;
        const before = current[name as keyof ExpenseRecord];
        const same =
          value instanceof Date
            ? before instanceof Date && before.getTime() === value.getTime()
            : typeof value === 'object' && value !== null
              ? JSON.stringify(value) === JSON.stringify({ amountMinor: (before as ExpenseRecord['amount']).amountMinor, currency: (before as ExpenseRecord['amount']).currency })
              : (before ?? null) === value;
        if (!same) (changes as Record<string, unknown>)[name] = value;
      }
      const changed = Object.keys(changes);
      if (changed.length === 0) return current;
      const next = await this.commit(current, changes, (n) => expenseUpdated(n, changed), expenseWriteFilter(user)!);
      if (!next) throw new ExpenseException('EXPENSE_VERSION_CONFLICT', 'The expense was changed meanwhile; reload and retry');
      return next;
    });
  }

  /** Soft delete: the expense disappears from every list and lookup; the record (and its history) stays. */
  async delete(id: string, user: AuthUser, expectedVersion?: number | null): Promise<ExpenseRecord> {
    const key = OBJECT_ID.test(id) ? id.toLowerCase() : id;
    return this.serial.run(key, async () => {
      const current = await this.writable(id, user, expectedVersion);
      const next = await this.commit(current, { deletedAt: new Date(), deletedBy: user.id }, (n) => expenseDeleted(n), expenseWriteFilter(user)!);
      if (!next) throw new ExpenseException('EXPENSE_VERSION_CONFLICT', 'The expense was changed meanwhile; reload and retry');
      return next;
    });
  }

  /**
   * Deletes in one call what a filter and search found (SAL-7 "batch delete of what a search found"),
   * but only the expenses the caller may delete; the rest are counted as `notPermitted` and left.
   * A filter or a search is required (no "delete everything by accident").
   */
  async deleteMatching(args: ExpenseQueryInput, user: AuthUser): Promise<BatchDeleteResult> {
    const allowed = expenseWriteFilter(user);
    if (!allowed) throw new ExpenseException('EXPENSE_FORBIDDEN', 'Your role cannot delete expenses');
    const filter = args.filter ?? {};
    const given = Object.values(filter).some((value) => value != null) || Boolean(args.search?.trim());
    if (!given) throw new ExpenseException('EXPENSE_INVALID_INPUT', 'Say what to delete', [{ field: 'filter', message: 'Give a filter or a search' }]);
    const matching = this.query(args, user);
    const deletable = { $and: [matching, allowed] };
    const [matched, deletableCount, ids] = await Promise.all([
      this.expenses.countDocuments(matching).exec(),
      this.expenses.countDocuments(deletable).exec(),
      this.expenses
        .find(deletable, { _id: 1 })
        .sort({ date: -1, _id: -1 })
        .limit(MAX_BATCH_DELETE)
        .lean<Array<{ _id: Types.ObjectId }>>()
        .exec(),
    ]);
    let deleted = 0;
    const queue = [...ids];
    const worker = async () => {
      for (let doc = queue.shift(); doc; doc = queue.shift()) {
        const id = doc._id;
        const done = await this.serial.run(id.toHexString(), async () => {
          // Re-read: it may have changed since the search; the update's condition re-checks the rights.
          const current = await this.expenses.findOne({ $and: [{ _id: id, deletedAt: null }, matching, allowed] }).lean<ExpenseRecord>().exec();
          if (!current) return 0;
          const next = await this.commit(current, { deletedAt: new Date(), deletedBy: user.id }, (n) => expenseDeleted(n), allowed);
          return next ? 1 : 0;
        });
        // Added after the await: `deleted += await ...` would read `deleted` before other workers' additions.
        deleted += done;
      }
    };
    await Promise.all(Array.from({ length: DELETE_CONCURRENCY }, worker));
    return { matched, deleted, notPermitted: matched - deletableCount, hasMore: deletableCount > ids.length };
  }

  /** customer.merged: moves the expenses of a merged-away customer to the survivor, each with expense.updated. Idempotent. */
  async repointCustomer(fromId: string, toId: string): Promise<number> {
    const ids = (await this.expenses.find({ customerId: fromId }, { _id: 1 }).lean<Array<{ _id: Types.ObjectId }>>().exec()).map((doc) => doc._id);
    let moved = 0;
    for (const id of ids) {
      moved += await this.serial.run(id.toHexString(), async () => {
        for (let attempt = 0; attempt < 5; attempt += 1) {
          const current = await this.expenses.findOne({ _id: id, customerId: fromId }).lean<ExpenseRecord>().exec();
          if (!current) return 0;
          if (await this.commitAny(current, { customerId: toId }, (n) => expenseUpdated(n, ['customerId']))) return 1;
        }
        throw new Error(`Expense ${id.toHexString()} kept changing while re-pointing its customer`);
      });
    }
    return moved;
  }

  /** A system change (no caller rights; deleted ones too), conditional on the version read. */
  private async commitAny(current: ExpenseRecord, changes: Partial<ExpenseRecord>, event: (next: ExpenseRecord) => CloudEvent): Promise<boolean> {
    const next: ExpenseRecord = { ...current, ...changes, version: current.version + 1, updatedAt: new Date() };
    const result = await this.expenses.collection.updateOne(
      { _id: current._id, version: current.version } as never,
      { $set: { ...changes, version: next.version, updatedAt: next.updatedAt }, ...appendEvents([event(next)]) } as never,
    );
    if (result.matchedCount === 0) return false;
    this.relay.notify(this.expenses, current._id);
    return true;
  }

  /** Whether the caller may change or delete this expense (for clients to show the buttons); same rule as `expenseWriteFilter`. */
  canChange(expense: ExpenseRecord, user: AuthUser): boolean {
    if (user.roles.includes(Role.ADMIN)) return true;
    if (!isSalesStaff(user)) return false;
    if (expense.ownerId === user.id) return true;
    return user.roles.includes(Role.SALES_MANAGER) && expense.visibility === 'PUBLIC' && expense.department !== null && departmentsOf(user).includes(expense.department);
  }
}
