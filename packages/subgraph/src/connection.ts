/** A page from `paginate` (@crm/mongo) in the Relay connection shape every list in the schema uses. */
export function connectionOf<T>(page: { items: T[]; cursors: string[]; hasNextPage: boolean; endCursor: string | null; totalCount: number; totalCountIsExact?: boolean }) {
  return {
    edges: page.items.map((node, index) => ({ node, cursor: page.cursors[index]! })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
    totalCount: page.totalCount,
    totalCountIsExact: page.totalCountIsExact ?? true,
  };
}
