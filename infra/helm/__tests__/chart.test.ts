import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART_DIR, helm, HELM_DIR, isBuiltIn, type K8sObject, KUBE_VERSION, RELEASE, render, type Rendered, renderError, REPO_ROOT, validate } from './helm.js';
import {
  availabilityProblems,
  componentOf,
  containerEnv,
  type Deployment,
  gatewayEnvProblems,
  type NetworkPolicy,
  networkPolicyProblems,
  ofKind,
  probeProblems,
  resourceProblems,
  rolloutProblems,
  secretLeakProblems,
  securityProblems,
  SUBGRAPHS,
} from './rules.js';

interface ValueSet {
  name: string;
  values: string[];
  autoscaling: boolean;
  /** Components this set installs. */
  components: string[];
  /** Subgraphs the gateway reaches elsewhere, with their URLs. */
  external?: Record<string, string>;
  /** The chart renders Secrets from values. */
  createsSecrets: boolean;
}

const ALL = ['gateway', ...SUBGRAPHS.map((s) => s.name)];
const ciFiles = readdirSync(join(CHART_DIR, 'ci')).sort();
const VALUE_SETS: ValueSet[] = [
  { name: 'defaults', values: ['crm/ci/defaults-values.yaml'], autoscaling: true, components: ALL, createsSecrets: false },
  { name: 'demo secrets', values: ['crm/ci/demo-secrets-values.yaml'], autoscaling: true, components: ALL, createsSecrets: true },
  { name: 'external with existing secrets', values: ['crm/ci/external-existing-secrets-values.yaml'], autoscaling: true, components: ALL, createsSecrets: false },
  { name: 'sales only', values: ['crm/ci/sales-only-values.yaml'], autoscaling: true, components: ['sales'], createsSecrets: true },
  {
    name: 'autoscaling off',
    values: ['crm/ci/autoscaling-off-values.yaml'],
    autoscaling: false,
    components: ALL.filter((c) => c !== 'analytics'),
    external: { analytics: 'http://crm-analytics.analytics.svc:4005/graphql' },
    createsSecrets: false,
  },
  { name: 'operators example', values: ['examples/operators/values.yaml'], autoscaling: true, components: ALL, createsSecrets: false },
];

// Helm's own merge: maps merge key by key, anything else (lists too) is replaced.
const merge = (base: any, over: any): any =>
  base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)
    ? Object.fromEntries([...new Set([...Object.keys(base), ...Object.keys(over)])].map((k) => [k, k in over ? merge(base[k], over[k]) : base[k]]))
    : over;
const valuesOf = (set: ValueSet): Record<string, any> =>
  set.values.reduce((values, file) => merge(values, parse(readFileSync(join(HELM_DIR, file), 'utf8')) ?? {}), parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')));

it('every value set in ci/ is exercised here', () => {
  const covered = VALUE_SETS.flatMap((s) => s.values).filter((f) => f.startsWith('crm/ci/')).map((f) => f.slice('crm/ci/'.length));
  expect(covered.sort()).toEqual(ciFiles);
});

describe.each(VALUE_SETS)('value set: $name', (set) => {
  let rendered: Rendered;
  let deployments: Deployment[];
  beforeAll(() => {
    rendered = render({ values: set.values });
    deployments = ofKind<Deployment>(rendered.objects, 'Deployment');
  });

  it('passes helm lint (strict)', () => {
    const args = ['lint', CHART_DIR, '--strict', '--kube-version', KUBE_VERSION];
    for (const file of set.values) args.push('--values', join(HELM_DIR, file));
    const { status, output } = helm(args);
    expect(output).toContain('0 chart(s) failed');
    expect(status).toBe(0);
  });

  it(`validates against the Kubernetes ${KUBE_VERSION} schemas (strict, offline)`, () => {
    const builtIn = rendered.objects.filter(isBuiltIn);
    expect(builtIn.length).toBeGreaterThan(5);
    const { status, output } = validate(builtIn);
    expect(output).not.toMatch(/ERROR|Error|failed|Couldn't find schema/);
    expect(status, output).toBe(0);
    expect(output.match(/^INFO .* passed for resource /gm)).toHaveLength(builtIn.length);
  });

  it('installs exactly the enabled components, each with its Deployment, Service and env ConfigMap', () => {
    const components = new Set(deployments.map(componentOf));
    expect([...components].sort()).toEqual([...set.components].sort());
    for (const o of rendered.objects) {
      const component = componentOf(o);
      if (component) expect(set.components, `${o.kind} ${o.metadata.name}`).toContain(component);
    }
    for (const component of set.components) {
      for (const kind of ['Service', 'ConfigMap', 'NetworkPolicy']) {
        expect(ofKind(rendered.objects, kind).some((o) => componentOf(o) === component), `${kind} of ${component}`).toBe(true);
      }
    }
  });

  it('gives every container startup, liveness and readiness probes on its port', () => {
    expect(probeProblems(deployments)).toEqual([]);
  });

  it('gives every container cpu and memory requests and limits', () => {
    expect(resourceProblems(deployments)).toEqual([]);
  });

  it('runs every container as uid 10001, non-root, read-only root, no escalation, no capabilities, no API token', () => {
    expect(securityProblems(deployments)).toEqual([]);
  });

  it('rolls without losing capacity and gives pods time to drain', () => {
    expect(rolloutProblems(rendered.objects, deployments)).toEqual([]);
  });

  it(`gives every Deployment a PodDisruptionBudget${set.autoscaling ? ' and an HPA' : ' and fixed replicas, no HPA'}`, () => {
    expect(availabilityProblems(rendered.objects, set.autoscaling)).toEqual([]);
  });

  it('denies by default and lets subgraphs be reached only by the gateway and monitoring', () => {
    const values = valuesOf(set);
    expect(networkPolicyProblems(rendered.objects, values.networkPolicy.metricsFrom, values.personalData)).toEqual([]);
  });

  it('keeps secrets in Secrets: none in ConfigMaps or plain env values', () => {
    expect(secretLeakProblems(rendered.objects)).toEqual([]);
  });

  it(set.createsSecrets ? 'renders a Secret per installed component' : 'renders no Secret (existing secrets are read)', () => {
    const secrets = ofKind(rendered.objects, 'Secret');
    if (set.createsSecrets) expect(secrets.map(componentOf).sort()).toEqual([...set.components].sort());
    else expect(secrets).toEqual([]);
  });

  it('passes the production settings and each service its own Kafka client id and database', () => {
    for (const d of deployments) {
      const env = containerEnv(rendered.objects, d.spec.template.spec.containers[0]!);
      const value = (name: string) => env.get(name)?.value;
      const component = componentOf(d)!;
      expect(value('NODE_ENV')).toBe('production');
      expect(value('HOST')).toBe('0.0.0.0');
      expect(Number(value('PORT'))).toBe(d.spec.template.spec.containers[0]!.ports![0]!.containerPort);
      expect(value('KAFKA_CLIENT_ID')).toBe(component);
      expect(value('KAFKA_REPLICATION_FACTOR')).toBe('3');
      expect(value('KAFKA_MIN_INSYNC_REPLICAS')).toBe('2');
      expect(value('KAFKA_PARTITIONS')).toBe('3');
      expect(value('KEYCLOAK_URL')).toMatch(/^https?:\/\//);
      if (component === 'gateway') {
        expect(value('TRUST_PROXY')).toBe('1');
        expect(value('KEYCLOAK_PUBLIC_URL')).toMatch(/^https:\/\//);
      } else {
        expect(value('MONGO_WRITE_CONCERN')).toBe('majority');
        expect(value('MONGO_JOURNAL')).toBe('true');
        expect(value('MONGO_DB')).toBe(`crm_${component.replace(/-/g, '_')}`);
        expect(env.get('MONGO_URL')?.valueFrom?.secretKeyRef).toBeDefined();
      }
    }
  });

  if (set.components.includes('gateway')) {
    it('gives the gateway a URL and a secret for every subgraph', () => {
      expect(gatewayEnvProblems(rendered.objects, RELEASE, set.external)).toEqual([]);
    });

    it('mounts the supergraph ConfigMap as a directory at SUPERGRAPH_PATH', () => {
      const gateway = deployments.find((d) => componentOf(d) === 'gateway')!;
      const container = gateway.spec.template.spec.containers[0]!;
      const path = containerEnv(rendered.objects, container).get('SUPERGRAPH_PATH')?.value;
      const volume = gateway.spec.template.spec.volumes!.find((v) => v.configMap?.name === `${RELEASE}-supergraph`)!;
      const mount = container.volumeMounts!.find((m) => m.name === volume.name)!;
      expect(path).toBe(`${mount.mountPath}/supergraph.graphql`);
      expect(mount).not.toHaveProperty('subPath');
      const configMap = ofKind<K8sObject & { data: Record<string, string> }>(rendered.objects, 'ConfigMap').find((c) => c.metadata.name === volume.configMap!.name)!;
      expect(configMap.data['supergraph.graphql']).toBe(readFileSync(join(CHART_DIR, 'files/supergraph.graphql'), 'utf8'));
    });
  }
});

describe('the services accept the environment the chart gives them', () => {
  // The services' own start-up validation (zod schemas), fed the env of the demo render with each
  // secretKeyRef resolved from the rendered Secret: a required variable the chart forgot fails here.
  const rendered = render({ values: ['crm/ci/demo-secrets-values.yaml'] });
  const schemas: Record<string, [string, string]> = {
    gateway: ['gateway/src/env.ts', 'gatewayEnvSchema'],
    customers: ['services/customers/src/env.ts', 'customersEnvSchema'],
    sales: ['services/sales/src/env.ts', 'salesEnvSchema'],
    'service-desk': ['services/service-desk/src/env.ts', 'serviceDeskEnvSchema'],
    marketing: ['services/marketing/src/env.ts', 'marketingEnvSchema'],
    analytics: ['services/analytics/src/env.ts', 'analyticsEnvSchema'],
    admin: ['services/admin/src/env.ts', 'adminEnvSchema'],
  };

  it.each(Object.keys(schemas))('%s', async (component) => {
    const [file, exportName] = schemas[component]!;
    const module = (await import(pathToFileURL(join(REPO_ROOT, file)).href)) as Record<string, { safeParse(env: object): { success: boolean; error?: unknown } }>;
    const deployment = ofKind<Deployment>(rendered.objects, 'Deployment').find((d) => componentOf(d) === component)!;
    const secrets = ofKind<K8sObject & { data: Record<string, string> }>(rendered.objects, 'Secret');
    const env: Record<string, string> = {};
    for (const [name, variable] of containerEnv(rendered.objects, deployment.spec.template.spec.containers[0]!)) {
      const ref = variable.valueFrom?.secretKeyRef;
      if (!ref) env[name] = variable.value!;
      else {
        const data = secrets.find((s) => s.metadata.name === ref.name)?.data[ref.key];
        if (data !== undefined) env[name] = Buffer.from(data, 'base64').toString('utf8');
        else expect(ref.optional, `${name}: ${ref.name}/${ref.key} is not rendered`).toBe(true);
      }
    }
    const result = module[exportName]!.safeParse(env);
    expect(result.error).toBeUndefined();
    expect(result.success).toBe(true);
  });
});

describe('existing secrets', () => {
  it('reads every secret from the Secrets named in values', () => {
    const { objects } = render({ values: ['crm/ci/external-existing-secrets-values.yaml'] });
    const refs = ofKind<Deployment>(objects, 'Deployment').flatMap((d) =>
      [...containerEnv(objects, d.spec.template.spec.containers[0]!).values()].flatMap((v) => (v.valueFrom?.secretKeyRef ? [`${componentOf(d)} ${v.valueFrom.secretKeyRef.name}/${v.valueFrom.secretKeyRef.key}`] : [])),
    );
    expect(refs).toContain('gateway crm-gateway-subgraph-secrets/SUBGRAPH_SERVICE_DESK_SECRET');
    expect(refs).toContain('customers crm-customers-secrets/CUSTOMER_PII_KEY');
    expect(refs).toContain('customers crm-mongodb/connection-string');
    expect(refs).toContain('admin crm-admin-secrets/KEYCLOAK_ADMIN_CLIENT_SECRET');
    expect(refs).toContain('marketing crm-marketing-secrets/SMTP_URL');
    expect(refs.filter((r) => !/ crm-(mongodb|[a-z-]+-secrets|gateway-subgraph-secrets)\//.test(r))).toEqual([]);
  });

  it('defaults to one Secret per component named <release>-<component>', () => {
    const { objects } = render();
    const gateway = ofKind<Deployment>(objects, 'Deployment').find((d) => componentOf(d) === 'gateway')!;
    const ref = containerEnv(objects, gateway.spec.template.spec.containers[0]!).get('SUBGRAPH_SALES_SECRET')!.valueFrom!.secretKeyRef!;
    expect(ref).toEqual({ name: `${RELEASE}-gateway`, key: 'SUBGRAPH_SALES_SECRET' });
  });
});

describe('disabling a service', () => {
  it('removes its objects and needs the URL the gateway reaches it at elsewhere', () => {
    expect(renderError({ set: ['services.marketing.enabled=false'] })).toContain('set services.marketing.externalUrl to where it runs');
    const { objects } = render({ set: ['services.marketing.enabled=false', 'services.marketing.externalUrl=https://marketing.example.net/graphql'] });
    expect(objects.filter((o) => componentOf(o) === 'marketing' || o.metadata.name.includes('marketing'))).toEqual([]);
    expect(gatewayEnvProblems(objects, RELEASE, { marketing: 'https://marketing.example.net/graphql' })).toEqual([]);
    const gatewayPolicy = ofKind<NetworkPolicy>(objects, 'NetworkPolicy').find((p) => componentOf(p) === 'gateway')!;
    expect(gatewayPolicy.spec.egress!.some((rule) => rule.ports?.some((p) => p.port === 443) && rule.to?.[0]?.podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'marketing')).toBe(true);
  });

  it('lets a lone subgraph accept a crm gateway from any namespace', () => {
    const { objects } = render({ values: ['crm/ci/sales-only-values.yaml'] });
    const policy = ofKind<NetworkPolicy>(objects, 'NetworkPolicy').find((p) => componentOf(p) === 'sales')!;
    expect(policy.spec.ingress![0]!.from).toEqual([
      { namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'crm', 'app.kubernetes.io/component': 'gateway' } } },
    ]);
  });
});

describe('Keycloak by an in-cluster address', () => {
  it('gives every component the in-cluster URL for keys and the public URL as the tokens\' issuer', () => {
    const { objects } = render({ set: ['keycloak.url=http://keycloak-service.keycloak:8080', 'keycloak.publicUrl=https://sso.example.com'] });
    const deployments = ofKind<Deployment>(objects, 'Deployment');
    expect(deployments.map(componentOf).sort()).toEqual([...ALL].sort());
    for (const d of deployments) {
      const env = containerEnv(objects, d.spec.template.spec.containers[0]!);
      expect([env.get('KEYCLOAK_URL')?.value, env.get('KEYCLOAK_PUBLIC_URL')?.value], componentOf(d)).toEqual(['http://keycloak-service.keycloak:8080', 'https://sso.example.com']);
    }
  });
});

describe('Prometheus Operator scraping', () => {
  it('makes one ServiceMonitor per component that keeps our service label (the dashboard groups by it)', () => {
    const { objects } = render({ set: ['metrics.serviceMonitor.enabled=true'] });
    const monitors = objects.filter((o) => o.kind === 'ServiceMonitor') as Array<K8sObject & { spec: { endpoints: Array<{ port: string; path: string; honorLabels?: boolean }> } }>;
    expect(monitors.map(componentOf).sort()).toEqual([...ALL].sort());
    for (const monitor of monitors) expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics', honorLabels: true })]);
  });
});

describe('rolling on change', () => {
  const gatewayOf = (objects: K8sObject[]) => ofKind<Deployment>(objects, 'Deployment').find((d) => componentOf(d) === 'gateway')!;

  it('rolls pods when their environment or chart-made Secret changes', () => {
    const before = render({ values: ['crm/ci/demo-secrets-values.yaml'] }).objects;
    const after = render({ values: ['crm/ci/demo-secrets-values.yaml'], set: ['logLevel=debug', 'services.sales.secretValues.GATEWAY_SECRET=another-demo-secret-for-sales-0002'] }).objects;
    const annotations = (objects: K8sObject[], component: string) => ofKind<Deployment>(objects, 'Deployment').find((d) => componentOf(d) === component)!.spec.template.metadata.annotations!;
    expect(annotations(after, 'customers')['checksum/config']).not.toBe(annotations(before, 'customers')['checksum/config']);
    expect(annotations(after, 'customers')['checksum/secret']).toBe(annotations(before, 'customers')['checksum/secret']);
    expect(annotations(after, 'sales')['checksum/secret']).not.toBe(annotations(before, 'sales')['checksum/secret']);
    expect(annotations(after, 'gateway')['checksum/secret']).not.toBe(annotations(before, 'gateway')['checksum/secret']);
  });

  it('does not roll the gateway when only the supergraph changes (it reloads the file)', () => {
    const copy = mkdtempSync(join(tmpdir(), 'crm-chart-copy-'));
    cpSync(CHART_DIR, copy, { recursive: true });
    // The chart's supergraph is a link to gateway/supergraph.graphql: replace the link, never write through it.
    const changed = `${readFileSync(join(CHART_DIR, 'files/supergraph.graphql'), 'utf8')}\n# changed\n`;
    rmSync(join(copy, 'files/supergraph.graphql'));
    writeFileSync(join(copy, 'files/supergraph.graphql'), changed);
    const before = render().objects;
    const after = render({ chartDir: copy }).objects;
    const supergraph = (objects: K8sObject[]) => ofKind<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap').find((c) => c.metadata.name === `${RELEASE}-supergraph`)!.data;
    expect(supergraph(after)).not.toEqual(supergraph(before));
    expect(gatewayOf(after)).toEqual(gatewayOf(before));
  });
});

describe('refused values', () => {
  it('refuses a misspelt or unknown value (values.schema.json) instead of ignoring it', () => {
    expect(renderError({ set: ['services.sales.enabeld=false'] })).toContain("at '/services/sales': additional properties 'enabeld' not allowed");
    expect(renderError({ set: ['networkPolicy.kafka.ports[0]=none'] })).toContain('/networkPolicy/kafka/ports/0');
  });

  it('refuses a secret-looking name in plain env', () => {
    expect(renderError({ set: ['services.sales.env.MONGO_URL=mongodb://u:p@h/db'] })).toContain('services.sales.env.MONGO_URL looks secret');
  });

  it('refuses chart-made Secrets with a short gateway secret or a wrong-size PII key', () => {
    const demo = ['crm/ci/demo-secrets-values.yaml'];
    expect(renderError({ values: demo, set: ['services.sales.secretValues.GATEWAY_SECRET=short'] })).toContain('at least 24 characters');
    expect(renderError({ values: demo, set: ['services.customers.secretValues.CUSTOMER_PII_KEY=c2hvcnQ='] })).toContain('32 random bytes');
  });
});

describe('older clusters', () => {
  it('pauses in preStop with node where the sleep handler is not on by default (Kubernetes 1.29)', () => {
    const { objects } = render({ kubeVersion: '1.29.0' });
    const preStop = ofKind<Deployment>(objects, 'Deployment')[0]!.spec.template.spec.containers[0]!.lifecycle!.preStop!;
    expect(preStop.sleep).toBeUndefined();
    expect(preStop.exec!.command).toEqual(['node', '-e', 'setTimeout(() => {}, 5000)']);
    expect(rolloutProblems(objects, ofKind<Deployment>(objects, 'Deployment'))).toEqual([]);
  });
});

describe('the handbook', () => {
  it("lists the resource figures values.yaml sets (infra/README.md, 'Resource figures')", () => {
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
    const readme = readFileSync(join(REPO_ROOT, 'infra/README.md'), 'utf8');
    for (const component of ['gateway', ...SUBGRAPHS.map((s) => s.name)]) {
      const { requests, limits } = values.services[component].resources;
      const row = new RegExp(`^\\| ${component} +\\|.*\\| ${requests.cpu} / ${requests.memory} +\\| ${limits.cpu} / ${limits.memory} +\\|$`, 'm');
      expect(readme, component).toMatch(row);
    }
  });
});
