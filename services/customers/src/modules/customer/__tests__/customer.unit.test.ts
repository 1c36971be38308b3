import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuthUser } from '@crm/auth';
import { readFilter, seesIdentityNumbers, writeFilter } from '../customer.access.js';
import { IdentityVault, maskIdentity } from '../customer.crypto.js';
import { nameSortKeyOf, searchKeysOf, searchTermsOf } from '../customer.search.js';
import { canTransition, createCustomerInput, isPastDate, isValidPrcResidentId, normalisePhone, updateCustomerInput } from '../customer.validation.js';

const user = (roles: string[], groups: string[] = [], id = 'u1'): AuthUser => ({ id, username: id, roles, groups });

describe('profile validation (CUS-1)', () => {
  it('normalises phones to E.164, Chinese numbers as typed', () => {
    expect(normalisePhone('138 0013 8000')).toBe('+8613800138000');
    expect(normalisePhone('+86 138-0013-8000')).toBe('+8613800138000');
    expect(normalisePhone('+1 415 555 2671')).toBe('+14155552671');
    expect(normalisePhone('12345')).toBeNull();
  });

  it('checks PRC resident ids: format, birth date and ISO 7064 check character', () => {
    expect(isValidPrcResidentId('11010519491231002X')).toBe(true);
    expect(isValidPrcResidentId('110105194912310021')).toBe(false); // wrong check character
    expect(isValidPrcResidentId('11010519491331002X')).toBe(false); // month 13
    expect(isValidPrcResidentId('1101051949123100')).toBe(false);
  });

  it('accepts calendar dates up to today only', () => {
    expect(isPastDate('2000-02-29')).toBe(true);
    expect(isPastDate('2001-02-29')).toBe(false);
    expect(isPastDate('2999-01-01')).toBe(false);
  });

  it('validates a whole profile and names every bad field', () => {
    const result = createCustomerInput.safeParse({
      name: '',
      email: 'x@',
      phones: [{ number: 'abc' }],
      birthday: '2999-01-01',
      identityDocument: { type: 'PRC_RESIDENT_ID', number: '110105194912310021' },
      address: { country: 'China' },
    });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['address.country', 'birthday', 'email', 'identityDocument.number', 'name', 'phones.0.number']);
    const ok = createCustomerInput.parse({ name: ' 张三 ', phones: [{ number: '13800138000' }, { number: '+8613800138000', kind: 'WORK' }], tags: ['a', 'a'], identityDocument: { type: 'PRC_RESIDENT_ID', number: '11010519491231002x' } });
    expect(ok).toMatchObject({ name: '张三', lifecycleStage: 'LEAD', tags: ['a'], phones: [{ number: '+8613800138000', kind: 'WORK' }], identityDocument: { number: '11010519491231002X' } });
    expect(updateCustomerInput.safeParse({ name: null }).success).toBe(false);
    // An address typed with spaces and capitals is stored trimmed and lower-cased; an empty one is none.
    expect(createCustomerInput.parse({ name: 'Ann', email: '  Ann.Li@Example.CN ' }).email).toBe('ann.li@example.cn');
    expect(createCustomerInput.parse({ name: 'Ann', email: '' }).email).toBeNull();
    expect(createCustomerInput.safeParse({ name: 'Ann', email: `${'a'.repeat(250)}@x.cn` }).success).toBe(false);
  });

  it('enforces lifecycle transitions', () => {
    expect(canTransition('LEAD', 'PROSPECT')).toBe(true);
    expect(canTransition('CUSTOMER', 'LOYAL')).toBe(true);
    expect(canTransition('CHURNED', 'CUSTOMER')).toBe(true);
    expect(canTransition('LEAD', 'LOYAL')).toBe(false);
    expect(canTransition('LOYAL', 'LEAD')).toBe(false);
  });
});

describe('search keys (CUS-3)', () => {
  const keys = searchKeysOf({ name: '张三丰', phones: [{ number: '+8613800138000' }], email: 'Zhang.San@Example.cn', organization: '清华大学' });
  it.each([['张'], ['三丰'], ['zhangsanfeng'], ['zhangsan'], ['sanfeng'], ['zs'], ['zsf'], ['0013'], ['138001'], ['zhang.san@example.cn'], ['zhang.san'], ['example.cn'], ['清华'], ['qinghua']])('finds by %s', (term) => {
    expect(keys).toContain(searchTermsOf(term)[0]);
  });

  it('does not find by unrelated text, and normalises queries', () => {
    expect(keys).not.toContain('lisi');
    expect(searchTermsOf(' 138-0013 ')).toEqual(['1380013']);
    expect(searchTermsOf('Zhang  SAN')).toEqual(['zhang', 'san']);
  });

  it('sorts Chinese names by pinyin', () => {
    expect(['张三', '李四', 'Adams'].map(nameSortKeyOf).sort()).toEqual(['adams', 'lisi', 'zhangsan']);
  });
});

describe('identity numbers at rest (CUS-7)', () => {
  const vault = new IdentityVault(randomBytes(32).toString('base64'), randomBytes(32).toString('base64'));
  it('encrypts with AES-256-GCM, opens, and hashes deterministically', () => {
    const sealed = vault.seal('PRC_RESIDENT_ID', '11010519491231002X');
    expect(sealed.ciphertext).toMatch(/^v2:[0-9a-f]{8}:/);
    expect(sealed.ciphertext).not.toContain('11010519491231002X');
    expect(vault.open(sealed)).toBe('11010519491231002X');
    expect(vault.seal('PRC_RESIDENT_ID', '11010519491231002X').ciphertext).not.toBe(sealed.ciphertext);
    expect(sealed.hash).toBe(vault.hash('PRC_RESIDENT_ID', '11010519491231002X'));
    expect(maskIdentity(sealed.last4)).toBe('********002X');
  });

  it('refuses a tampered ciphertext and a wrong key', () => {
    const sealed = vault.seal('PASSPORT', 'E12345678');
    const [, keyId, body] = sealed.ciphertext.split(':');
    const raw = Buffer.from(body!, 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => vault.open({ ...sealed, ciphertext: `v2:${keyId}:${raw.toString('base64')}` })).toThrow();
    const other = new IdentityVault(randomBytes(32).toString('base64'), randomBytes(32).toString('base64'));
    expect(() => other.open(sealed)).toThrow();
    expect(() => new IdentityVault('c2hvcnQ=', 'c2hvcnQ=')).toThrow(/32 bytes/);
  });
});

describe('key rotation (SYS-6)', () => {
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  const hashKey = randomBytes(32).toString('base64');
  const before = new IdentityVault(oldKey, hashKey);
  const after = new IdentityVault(newKey, hashKey, [oldKey]);

  it('opens what a previous key sealed, including v1 values from before key ids, and reseals under the current key', () => {
    const sealed = before.seal('PASSPORT', 'E12345678');
    expect(after.open(sealed)).toBe('E12345678');
    const legacy = { ...sealed, ciphertext: `v1:${sealed.ciphertext.split(':')[2]}` };
    expect(after.open(legacy)).toBe('E12345678');
    const resealed = after.reseal(legacy);
    expect(resealed.ciphertext.startsWith(after.currentPrefix())).toBe(true);
    expect(resealed.ciphertext.startsWith(before.currentPrefix())).toBe(false);
    expect(resealed).toMatchObject({ hash: sealed.hash, last4: sealed.last4 });
    expect(new IdentityVault(newKey, hashKey).open(resealed)).toBe('E12345678');
  });

  it('says which key is missing once a previous key is dropped too early', () => {
    const sealed = before.seal('PASSPORT', 'E12345678');
    expect(() => new IdentityVault(newKey, hashKey).open(sealed)).toThrow(/CUSTOMER_PII_PREVIOUS_KEYS/);
  });
});

describe('record visibility (CUS-7)', () => {
  it('maps roles, departments and teams to filters', () => {
    expect(readFilter(user(['admin']))).toEqual({});
    expect(readFilter(user(['marketer']))).toEqual({});
    expect(readFilter(user(['sales-manager'], ['sales']))).toEqual({ department: { $in: ['sales'] } });
    expect(readFilter(user(['sales-rep'], ['sales', 'sales-east']))).toEqual({ $or: [{ ownerId: 'u1' }, { ownerTeams: { $in: ['sales-east'] } }] });
    expect(readFilter(user(['sales-rep'], ['sales']))).toEqual({ ownerId: 'u1' });
    expect(readFilter(user(['customer']))).toEqual({ portalUserId: 'u1' });
    expect(readFilter(user([]))).toBeNull();
    expect(writeFilter(user(['marketer']))).toBeNull();
    expect(writeFilter(user(['service-agent']))).toBeNull();
    expect(seesIdentityNumbers(user(['sales-manager']))).toBe(true);
    expect(seesIdentityNumbers(user(['sales-rep']))).toBe(false);
  });
});
