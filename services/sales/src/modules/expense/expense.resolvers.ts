import type { Page } from '@crm/mongo';
import type { Resolvers } from '../../__generated__/resolvers-types.js';
import type { ExpenseRecord } from './expense.model.js';

const connection = (page: Page<ExpenseRecord>) => ({
  edges: page.items.map((node, index) => ({ node, cursor: page.cursors[index]! })),
  pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
  totalCount: page.totalCount,
});

export const expenseResolvers: Resolvers = {
  Query: {
    expense: (_parent, { id }, { services, user }) => services.expenses.get(id, user),
    expenses: async (_parent, { filter, search, searchFields, first, after }, { services, user }) =>
      connection(await services.expenses.list({ filter, search, searchFields, first, after }, user)),
    expenseTable: (_parent, { customerId, columns, search, searchFields, first, after }, { services, user }) =>
      services.expenses.table(customerId, columns, { search, searchFields, first, after }, user),
  },
  Mutation: {
    recordExpense: (_parent, { input }, { services, user }) => services.expenses.record(input, user),
    updateExpense: (_parent, { id, input, expectedVersion }, { services, user }) => services.expenses.update(id, input, user, expectedVersion),
    deleteExpense: (_parent, { id, expectedVersion }, { services, user }) => services.expenses.delete(id, user, expectedVersion),
    deleteExpenses: (_parent, { filter, search, searchFields }, { services, user }) => services.expenses.deleteMatching({ filter, search, searchFields }, user),
  },
  Customer: {
    expenses: async (customer, { first, after }, { services, user }) => connection(await services.expenses.forCustomer(customer.id, { first, after }, user)),
    expenseTable: (customer, { columns, first, after, search, searchFields }, { services, user }) =>
      services.expenses.table(customer.id, columns, { search, searchFields, first, after }, user),
  },
  Expense: {
    id: (expense) => expense._id.toHexString(),
    customer: (expense) => ({ id: expense.customerId }),
    date: (expense) => expense.date.toISOString().slice(0, 10),
    canChange: (expense, _args, { services, user }) => services.expenses.canChange(expense, user),
  },
};
