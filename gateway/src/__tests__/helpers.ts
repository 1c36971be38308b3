import { randomBytes } from 'node:crypto';
import { parseEnv } from '@crm/env';
import { uniqueName, type TestInfra } from '@crm/testing';
import { gatewayEnvSchema, type GatewayEnv } from '../env.js';
import { envStem, SUBGRAPHS } from '../subgraphs.js';

/** Gateway settings for a test: real Keycloak, ephemeral port, fresh per-subgraph secrets. */
export function testGatewayEnv(infra: TestInfra): GatewayEnv {
  return parseEnv(gatewayEnvSchema, {
    PORT: '0',
    LOG_LEVEL: 'silent',
    KEYCLOAK_URL: infra.keycloakUrl,
    KEYCLOAK_REALM: infra.realm,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: uniqueName('gw'),
    ...Object.fromEntries(SUBGRAPHS.map(({ name }) => [`SUBGRAPH_${envStem(name)}_SECRET`, randomBytes(24).toString('base64url')])),
  }) as GatewayEnv;
}
