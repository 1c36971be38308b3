import { describe, expect, it } from 'vitest';
import { isDuplicateKey } from '../errors.js';

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
