import { join } from 'node:path';
import { GenericContainer, Wait, getContainerRuntimeClient } from 'testcontainers';
import type { TestInfra } from './index.js';

/**
 * Starts MongoDB, Kafka (KRaft) and Keycloak (with the project's realm) in containers. Only reached
 * where a container runtime exists and no local infrastructure env was found.
 */
export async function startContainers(root: string): Promise<TestInfra> {
  try {
    await getContainerRuntimeClient();
  } catch {
    throw new Error(
      'No test servers found: set MONGO_URL, KAFKA_BROKERS and KEYCLOAK_URL, run `pnpm infra:up` ' +
        '(writes .local/infra.env), or provide a Docker engine for testcontainers.',
    );
  }
  const [mongo, kafka, keycloak] = await Promise.all([
    new GenericContainer('mongo:7').withExposedPorts(27017).withWaitStrategy(Wait.forListeningPorts()).start(),
    new GenericContainer('apache/kafka:4.1.1')
      .withExposedPorts({ container: 9092, host: 9092 })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:9092',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start(),
    new GenericContainer('quay.io/keycloak/keycloak:26.4')
      .withExposedPorts(8080, 9000)
      .withCopyFilesToContainer([{ source: join(root, 'infra/keycloak/crm-realm.json'), target: '/opt/keycloak/data/import/crm-realm.json' }])
      .withCommand(['start-dev', '--import-realm', '--health-enabled=true'])
      .withWaitStrategy(Wait.forHttp('/health/ready', 9000))
      .withStartupTimeout(180_000)
      .start(),
  ]);
  return {
    mongoUrl: `mongodb://${mongo.getHost()}:${mongo.getMappedPort(27017)}`,
    // Fixed host port: the broker advertises 127.0.0.1:9092 to clients.
    kafkaBrokers: [`${kafka.getHost()}:9092`],
    keycloakUrl: `http://${keycloak.getHost()}:${keycloak.getMappedPort(8080)}`,
    realm: 'crm',
  };
}
