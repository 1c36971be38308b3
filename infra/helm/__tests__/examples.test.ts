import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { HELM_DIR, REPO_ROOT } from './helm.js';

// Custom resources of the operators: no schema offline, so their production settings are checked here.
const load = (file: string): any[] => parseAllDocuments(readFileSync(join(HELM_DIR, 'examples/operators', file), 'utf8')).map((d) => d.toJS());

describe('operator examples', () => {
  it('MongoDB: a 3-member replica set with one least-privilege user per service database', () => {
    const [mongo] = load('mongodb-community.yaml');
    expect(mongo.kind).toBe('MongoDBCommunity');
    expect(mongo.spec).toMatchObject({ members: 3, type: 'ReplicaSet' });
    const databases = mongo.spec.users.map((u: any) => u.roles.map((r: any) => `${r.name}@${r.db}`).join());
    expect(databases).toEqual(['customers', 'sales', 'service_desk', 'marketing', 'analytics', 'admin'].map((s) => `readWrite@crm_${s}`));
  });

  it('Kafka: KRaft, 3 brokers, replication factor 3, min.insync.replicas 2', () => {
    const docs = load('strimzi-kafka.yaml');
    const pool = docs.find((d) => d.kind === 'KafkaNodePool');
    const kafka = docs.find((d) => d.kind === 'Kafka');
    expect(pool.spec.replicas).toBe(3);
    expect(pool.spec.roles).toEqual(expect.arrayContaining(['broker', 'controller']));
    expect(pool.metadata.labels['strimzi.io/cluster']).toBe(kafka.metadata.name);
    expect(kafka.metadata.annotations).toMatchObject({ 'strimzi.io/kraft': 'enabled', 'strimzi.io/node-pools': 'enabled' });
    expect(kafka.spec.kafka.config).toMatchObject({ 'default.replication.factor': 3, 'min.insync.replicas': 2, 'offsets.topic.replication.factor': 3 });
    expect(kafka.spec).not.toHaveProperty('zookeeper');
  });

  it('Keycloak: production mode behind TLS on its public hostname; the realm file it imports exists', () => {
    const text = readFileSync(join(HELM_DIR, 'examples/operators/keycloak.yaml'), 'utf8');
    const [keycloak] = load('keycloak.yaml');
    expect(keycloak.kind).toBe('Keycloak');
    expect(keycloak.spec.http.tlsSecret).toBeTruthy();
    expect(keycloak.spec.http.httpEnabled).not.toBe(true);
    expect(keycloak.spec.hostname.hostname).toMatch(/^https:\/\//);
    expect(keycloak.spec).not.toHaveProperty('startOptimized', false);
    expect(text).toContain('KeycloakRealmImport');
    expect(text).toContain('infra/keycloak/crm-realm.json');
    expect(JSON.parse(readFileSync(join(REPO_ROOT, 'infra/keycloak/crm-realm.json'), 'utf8')).realm).toBe('crm');
  });

  it("the operators' values point the chart at these servers", () => {
    const [values] = parseAllDocuments(readFileSync(join(HELM_DIR, 'examples/operators/values.yaml'), 'utf8')).map((d) => d.toJS());
    const [kafka] = load('strimzi-kafka.yaml').filter((d) => d.kind === 'Kafka');
    const [keycloak] = load('keycloak.yaml');
    const [mongo] = load('mongodb-community.yaml');
    expect(values.kafka.brokers).toBe(`${kafka.metadata.name}-kafka-bootstrap.${kafka.metadata.namespace}.svc:9092`);
    expect(values.keycloak.url).toBe(keycloak.spec.hostname.hostname);
    const connectionSecrets = mongo.spec.users.map((u: any) => u.connectionStringSecretName);
    for (const service of ['customers', 'sales', 'service-desk', 'marketing', 'analytics', 'admin']) {
      expect(connectionSecrets).toContain(values.services[service].mongoUrlSecret.name);
      expect(values.services[service].mongoUrlSecret.key).toBe('connectionString.standard');
    }
  });
});
