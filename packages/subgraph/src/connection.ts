/** A page from `paginate` (@crm/mongo) in the Relay connection shape every list in the schema uses. */
export function connectionOf<T>(page: { items: T[]; cursors: string[]; hasNextPage: boolean; endCursor: string | null; totalCount: number; totalCountIsExact?: boolean }) {
  return {
    edges: page.items.map((node, index) => ({ node, cursor: page.cursors[index]! })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
    totalCount: page.totalCount,
    totalCountIsExact: page.totalCountIsExact ?? true,
  };
}

/** Whether the client selected any of `fields` directly under the current field (e.g. a connection's totalCount). */
export function selectsField(info: { fieldNodes: ReadonlyArray<{ selectionSet?: { selections: ReadonlyArray<unknown> } }> }, fields: string[]): boolean {
  return info.fieldNodes.some((node) =>
    (node.selectionSet?.selections ?? []).some((selection) => {
      const s = selection as { kind: string; name?: { value: string } };
      // Fragments: assume they may ask for it.
      return s.kind !== 'Field' || fields.includes(s.name?.value ?? '');
    }),
  );
}
