import { pinyin } from 'pinyin-pro';

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const MAX_KEYS = 600;

function substrings(value: string, min: number, max = 12): string[] {
  const out: string[] = [];
  for (let start = 0; start < value.length; start += 1) {
    for (let end = start + min; end <= Math.min(value.length, start + max); end += 1) out.push(value.slice(start, end));
  }
  return out;
}

function prefixes(value: string, min: number): string[] {
  const out: string[] = [];
  for (let end = min; end <= value.length; end += 1) out.push(value.slice(0, end));
  return out;
}

/** Keys of a name: Chinese substrings, full pinyin and its syllable-aligned prefixes, initials; Latin word prefixes. */
function nameKeys(raw: string): string[] {
  const name = raw.toLowerCase().replace(/\s+/g, '');
  if (!name) return [];
  const keys = [name];
  if (CJK.test(name)) {
    keys.push(...substrings(name, 1));
    const syllables = pinyin(raw.replace(/\s+/g, ''), { toneType: 'none', type: 'array', v: true }).map((s) => s.toLowerCase());
    for (let i = 0; i < syllables.length; i += 1) keys.push(...prefixes(syllables.slice(i).join(''), 2));
    const initials = syllables.map((s) => s[0]).join('');
    keys.push(...substrings(initials, 2));
  } else {
    for (const word of raw.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean)) keys.push(...prefixes(word, 2));
    keys.push(...prefixes(name, 2));
  }
  return keys;
}

/** Every run of 3 or more digits of a phone number's national part, and of its E.164 form. */
function phoneKeys(e164: string): string[] {
  const digits = e164.replace(/\D/g, '');
  const national = digits.startsWith('86') ? digits.slice(2) : digits;
  return [...substrings(national, 3, 15), digits];
}

function emailKeys(email: string): string[] {
  const [local = '', domain = ''] = email.toLowerCase().split('@');
  return [email.toLowerCase(), ...prefixes(local, 2), domain];
}

export interface SearchableProfile {
  name: string;
  phones?: Array<{ number: string }> | null;
  email?: string | null;
  organization?: string | null;
}

/**
 * The exact-match keys a customer is found by (CUS-3). Stored in the document and indexed (multikey),
 * so a search is one index lookup rather than a regex scan; FerretDB and MongoDB both evaluate it.
 */
export function searchKeysOf(profile: SearchableProfile): string[] {
  const keys = new Set<string>([
    ...nameKeys(profile.name),
    ...(profile.phones ?? []).flatMap((p) => phoneKeys(p.number)),
    ...(profile.email ? emailKeys(profile.email) : []),
    ...(profile.organization ? nameKeys(profile.organization) : []),
  ]);
  return [...keys].slice(0, MAX_KEYS);
}

/** Search terms of a query string: each whitespace-separated word, normalised like the keys. */
export function searchTermsOf(query: string): string[] {
  return query
    .toLowerCase()
    .split(/\s+/)
    .map((term) => (/^[\d\s()+-]+$/.test(term) ? term.replace(/\D/g, '') : term))
    .filter((term) => term.length > 0)
    .slice(0, 5);
}

/** Sort key of a name: pinyin for Chinese, so 张三 sorts under Z. */
export function nameSortKeyOf(name: string): string {
  const compact = name.toLowerCase().replace(/\s+/g, '');
  return CJK.test(compact) ? pinyin(compact, { toneType: 'none', type: 'array', v: true }).join('') : compact;
}
