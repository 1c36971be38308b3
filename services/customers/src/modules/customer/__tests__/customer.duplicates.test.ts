import { describe, expect, it } from 'vitest';
import { duplicateKeysOf, DuplicateIndex } from '../customer.duplicates.js';

const person = (over: Record<string, unknown>) =>
  ({ phones: [], email: null, identity: null, nameSortKey: 'zhang san', organization: null, ...over }) as Parameters<typeof duplicateKeysOf>[0];

describe('DuplicateIndex', () => {
  it('names the first customer holding each key, with every reason that matched', () => {
    const index = new DuplicateIndex();
    index.add('a', duplicateKeysOf(person({ phones: [{ number: '+8613800138000' }], email: 'a@example.com', organization: 'Fudan' })));
    index.add('b', duplicateKeysOf(person({ email: 'a@example.com' })));
    const probe = duplicateKeysOf(person({ phones: [{ number: '+8613800138000' }], email: 'a@example.com', organization: 'Fudan' }));
    expect([...index.match(probe)]).toEqual([['a', ['SAME_PHONE', 'SAME_EMAIL', 'SIMILAR_NAME_SAME_ORGANIZATION']]]);
    // Same name elsewhere, other phone and email: nothing.
    expect(index.match(duplicateKeysOf(person({ phones: [{ number: '+8613900000000' }], organization: 'Tsinghua' }))).size).toBe(0);
    expect(index.size).toBe(3);
  });
});
