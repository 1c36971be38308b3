import { describe, expect, it } from 'vitest';
import { duplicateKeyIndexes, isDuplicateKey } from '../errors.js';

describe('isDuplicateKey', () => {
  it('recognises the duplicate-key code and nothing else', () => {
    expect(isDuplicateKey({ code: 11000 })).toBe(true);
    expect(isDuplicateKey(Object.assign(new Error('E11000 duplicate key'), { code: 11000 }))).toBe(true);
    expect(isDuplicateKey({ code: 11001 })).toBe(false);
    expect(isDuplicateKey(new Error('E11000 duplicate key'))).toBe(false);
    expect(isDuplicateKey(null)).toBe(false);
    expect(isDuplicateKey('11000')).toBe(false);
  });
});

describe('duplicateKeyIndexes', () => {
  it('gives the failed operations of a bulk write only when all are duplicate keys', () => {
    expect(duplicateKeyIndexes({ writeErrors: [{ index: 0, code: 11000 }, { index: 3, code: 11000 }] })).toEqual([0, 3]);
    // One write error alone may come as an object, not a list.
    expect(duplicateKeyIndexes({ writeErrors: { index: 2, code: 11000 } })).toEqual([2]);
    expect(duplicateKeyIndexes({ writeErrors: [{ index: 0, code: 11000 }, { index: 1, code: 121 }] })).toBeNull();
    expect(duplicateKeyIndexes({ writeErrors: [] })).toBeNull();
    expect(duplicateKeyIndexes({ code: 11000 })).toBeNull();
    expect(duplicateKeyIndexes(null)).toBeNull();
  });
});
