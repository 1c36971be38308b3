import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { GraphQLError } from 'graphql';
import { gql } from 'graphql-tag';
import { afterAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '@crm/auth';
import { defineException } from '@crm/errors';
import { createLogger } from '@crm/logger';
import { gatewayHeaders, graphql, login, testInfra } from '@crm/testing';
import { createFormatError } from '../errors.js';
import { DateScalar, DateTimeScalar } from '../scalars.js';
import { connectionOf, selectsField } from '../connection.js';
import { parse, type FieldNode, type OperationDefinitionNode } from 'graphql';
import { SubgraphServer } from '../server.js';
import { gatewaySecretsOf } from '../run.js';

const WidgetException = defineException<'WIDGET_GONE'>('WidgetException', { WIDGET_GONE: 'NOT_FOUND' });

describe('DateTime scalar', () => {
  it('serialises UTC instants and requires a zone on input', () => {
    expect(DateTimeScalar.serialize(new Date(Date.UTC(2026, 10, 22, 8, 30)))).toBe('2026-11-22T08:30:00.000Z');
    expect(DateTimeScalar.parseValue('2026-11-22T16:30:00+08:00')).toEqual(new Date('2026-11-22T08:30:00Z'));
    expect(() => DateTimeScalar.parseValue('2026-11-22T08:30:00')).toThrow(/ISO 8601/);
    expect(() => DateTimeScalar.parseValue('yesterday')).toThrow(/ISO 8601/);
  });
});

describe('Date scalar and connections', () => {
  it('accepts calendar dates only', () => {
    expect(DateScalar.parseValue('2024-02-29')).toBe('2024-02-29');
    expect(() => DateScalar.parseValue('2023-02-29')).toThrow(/YYYY-MM-DD/);
    expect(() => DateScalar.parseValue('2023-2-1')).toThrow(/YYYY-MM-DD/);
  });

  it('shapes pages as connections and tells whether a total was asked for', () => {
    expect(connectionOf({ items: ['a'], cursors: ['c1'], hasNextPage: false, endCursor: 'c1', totalCount: 1 })).toEqual({
      edges: [{ node: 'a', cursor: 'c1' }],
      pageInfo: { hasNextPage: false, endCursor: 'c1' },
      totalCount: 1,
      totalCountIsExact: true,
    });
    const fieldOf = (query: string) => ({ fieldNodes: [(parse(query).definitions[0] as OperationDefinitionNode).selectionSet.selections[0] as FieldNode] });
    expect(selectsField(fieldOf('{ customers { totalCount } }'), ['totalCount'])).toBe(true);
    expect(selectsField(fieldOf('{ customers { edges { cursor } } }'), ['totalCount'])).toBe(false);
    expect(selectsField(fieldOf('{ customers { ...F } }'), ['totalCount'])).toBe(true);
  });
});

describe('formatError', () => {
  const lines: string[] = [];
  const logger = createLogger({ service: 't', destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }) });
  const format = createFormatError(logger);

  it('maps domain exceptions thrown in resolvers to their code', () => {
    const original = new WidgetException('WIDGET_GONE', 'No such widget');
    const wrapped = new GraphQLError(original.message, { originalError: original, path: ['widget'] });
    expect(format({ message: 'No such widget', path: ['widget'] }, wrapped)).toEqual({
      message: 'No such widget',
      path: ['widget'],
      locations: undefined,
      extensions: { code: 'NOT_FOUND', reason: 'WIDGET_GONE' },
    });
  });

  it('passes request errors Apollo raises, and masks and logs anything unexpected', () => {
    const validation = { message: 'Cannot query field "x"', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
    expect(format(validation, new GraphQLError(validation.message))).toBe(validation);
    const crash = new GraphQLError('connection string mongodb://user:pw@host', { originalError: new Error('connection string mongodb://user:pw@host') });
    expect(format({ message: crash.message, path: ['a'] }, crash)).toEqual({ message: 'Internal server error', path: ['a'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(lines.some((line) => line.includes('unexpected error in resolver'))).toBe(true);
  });
});

describe('SubgraphServer (real Keycloak)', async () => {
  const infra = await testInfra();
  const secret = randomBytes(24).toString('base64url');
  let dependencyUp = true;
  const server = new SubgraphServer({
    name: 'probe',
    typeDefs: gql`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      type Query { whoami: String!  fail: String }
    `,
    resolvers: {
      Query: {
        whoami: (_p: unknown, _a: unknown, ctx: { user: { username: string; roles: string[] } }) => `${ctx.user.username}:${ctx.user.roles.join(',')}`,
        fail: () => {
          throw new WidgetException('WIDGET_GONE', 'gone');
        },
      },
    },
    services: {},
    logger: createLogger({ service: 'probe', level: 'silent' }),
    verifier: new TokenVerifier({ keycloakUrl: infra.keycloakUrl, realm: infra.realm, audience: 'crm-api' }),
    gatewaySecret: secret,
    readiness: [{ name: 'dependency', check: () => dependencyUp }],
  });
  const url = await server.listen(0);
  const base = url.replace(/\/graphql$/, '');
  const token = await login(infra, 'service.agent');
  afterAll(() => server.close());

  it('gives resolvers the verified caller and maps their exceptions', async () => {
    const result = await graphql(url, '{ whoami fail }', {}, gatewayHeaders(token, secret));
    expect(result.data).toEqual({ whoami: 'service.agent:service-agent', fail: null });
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND', reason: 'WIDGET_GONE' });
  });

  it('refuses requests without the gateway secret before looking at the token', async () => {
    const result = await graphql(url, '{ whoami }', {}, gatewayHeaders(token, `${secret}x`));
    expect(result.status).toBe(403);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'GATEWAY_SECRET_MISMATCH' });
  });

  it('during a secret rotation answers the gateway with the new or the previous secret, and nothing else', async () => {
    const [current, previous] = [randomBytes(24).toString('base64url'), randomBytes(24).toString('base64url')];
    const rotating = new SubgraphServer({
      name: 'rotating',
      typeDefs: gql`
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
        type Query { ping: String! }
      `,
      resolvers: { Query: { ping: () => 'pong' } },
      services: {},
      logger: createLogger({ service: 'rotating', level: 'silent' }),
      verifier: new TokenVerifier({ keycloakUrl: infra.keycloakUrl, realm: infra.realm, audience: 'crm-api' }),
      gatewaySecret: gatewaySecretsOf({ GATEWAY_SECRET: current, GATEWAY_SECRET_PREVIOUS: previous }),
      readiness: [],
    });
    const rotatingUrl = await rotating.listen(0);
    try {
      const statuses = await Promise.all([current, previous, secret].map(async (key) => (await graphql(rotatingUrl, '{ ping }', {}, gatewayHeaders(token, key))).status));
      expect(statuses).toEqual([200, 200, 403]);
    } finally {
      await rotating.close();
    }
    expect(gatewaySecretsOf({ GATEWAY_SECRET: current, GATEWAY_SECRET_PREVIOUS: undefined })).toEqual([current]);
  });

  it('answers 401 UNAUTHENTICATED without a valid token', async () => {
    const result = await graphql(url, '{ whoami }', {}, gatewayHeaders('x.y.z', secret));
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('is alive regardless, and ready only while every check passes and it takes requests', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    dependencyUp = false;
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ready: false, checks: { accepting: true, dependency: false } });
    dependencyUp = true;
    await server.close();
    expect(await server.readiness()).toEqual({ ready: false, checks: { accepting: false, dependency: true } });
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
