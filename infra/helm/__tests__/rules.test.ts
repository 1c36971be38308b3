// The checks in rules.ts must fail when the chart breaks a rule: each case breaks one rendered object
// the way a template mistake would, and expects the check to name it.
import { beforeAll, describe, expect, it } from 'vitest';
import { type K8sObject, render, validate } from './helm.js';
import {
  availabilityProblems,
  componentOf,
  type Deployment,
  gatewayEnvProblems,
  type NetworkPolicy,
  networkPolicyProblems,
  ofKind,
  type PersonalData,
  probeProblems,
  resourceProblems,
  rolloutProblems,
  secretLeakProblems,
  securityProblems,
} from './rules.js';

const MONITORING = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }];
const PERSONAL_DATA: PersonalData = { services: ['customers', 'sales', 'marketing', 'analytics'], owners: { customer: 'customers', lead: 'sales' } };

let pristine: K8sObject[];
beforeAll(() => {
  pristine = render({ values: ['crm/ci/demo-secrets-values.yaml'] }).objects;
});

/** A fresh copy of the demo render, and accessors into it. */
function copy() {
  const objects = structuredClone(pristine);
  const deployments = ofKind<Deployment>(objects, 'Deployment');
  const deployment = (component: string) => deployments.find((d) => componentOf(d) === component)!;
  const container = (component: string) => deployment(component).spec.template.spec.containers[0]!;
  const policy = (component: string) => ofKind<NetworkPolicy>(objects, 'NetworkPolicy').find((p) => componentOf(p) === component)!;
  const configMap = (name: string) => ofKind<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap').find((c) => c.metadata.name === name)!;
  return { objects, deployments, deployment, container, policy, configMap };
}

it('the pristine demo render passes every check', () => {
  const { objects, deployments } = copy();
  expect([
    ...probeProblems(deployments),
    ...resourceProblems(deployments),
    ...securityProblems(deployments),
    ...rolloutProblems(objects, deployments),
    ...availabilityProblems(objects, true),
    ...networkPolicyProblems(objects, MONITORING, PERSONAL_DATA),
    ...secretLeakProblems(objects),
    ...gatewayEnvProblems(objects, 'crm'),
  ]).toEqual([]);
});

describe('each check catches its rule broken', () => {
  it('probes', () => {
    const c = copy();
    delete c.container('sales').readinessProbe;
    c.container('admin').livenessProbe!.httpGet!.path = '/readyz';
    expect(probeProblems(c.deployments)).toEqual(['crm-sales/sales: no readinessProbe', 'crm-admin/admin: livenessProbe is /readyz on http']);
  });

  it('resources', () => {
    const c = copy();
    delete c.container('marketing').resources!.limits!.memory;
    expect(resourceProblems(c.deployments)).toEqual(['crm-marketing/marketing: no limits.memory']);
  });

  it('security', () => {
    const c = copy();
    c.container('customers').securityContext!.readOnlyRootFilesystem = false;
    c.container('gateway').securityContext!.allowPrivilegeEscalation = true;
    c.deployment('sales').spec.template.spec.automountServiceAccountToken = true;
    c.container('analytics').volumeMounts = [];
    expect(securityProblems(c.deployments)).toEqual([
      'crm-gateway/gateway: privilege escalation allowed',
      'crm-customers/customers: writable root filesystem',
      'crm-sales: mounts a service account token',
      'crm-analytics/analytics: no emptyDir at /tmp',
    ]);
  });

  it('rollouts', () => {
    const c = copy();
    c.deployment('sales').spec.strategy!.rollingUpdate!.maxUnavailable = 1;
    c.deployment('admin').spec.template.spec.terminationGracePeriodSeconds = 12;
    delete c.container('gateway').lifecycle;
    expect(rolloutProblems(c.objects, c.deployments)).toEqual([
      'crm-gateway/gateway: no preStop pause',
      'crm-sales: strategy is not RollingUpdate maxUnavailable 0, maxSurge 1',
      'crm-admin: terminationGracePeriodSeconds 12 does not cover 5000 ms pause + 10000 ms drain',
    ]);
  });

  it('disruption budgets and autoscalers', () => {
    const c = copy();
    const withoutSalesPdb = c.objects.filter((o) => !(o.kind === 'PodDisruptionBudget' && componentOf(o) === 'sales'));
    expect(availabilityProblems(withoutSalesPdb, true)).toEqual(['crm-sales: 0 PodDisruptionBudgets']);
    const withoutAdminHpa = c.objects.filter((o) => !(o.kind === 'HorizontalPodAutoscaler' && componentOf(o) === 'admin'));
    expect(availabilityProblems(withoutAdminHpa, true)).toEqual(['crm-admin: 0 HorizontalPodAutoscalers']);
    expect(availabilityProblems(c.objects, false)).toContain('crm-gateway: an HPA although autoscaling is off');
  });

  it('network policies', () => {
    const c = copy();
    const withoutDeny = c.objects.filter((o) => o.metadata.name !== 'crm-default-deny');
    expect(networkPolicyProblems(withoutDeny, MONITORING, PERSONAL_DATA)).toContain('no default-deny NetworkPolicy');
    const withoutOwn = c.objects.filter((o) => !(o.kind === 'NetworkPolicy' && componentOf(o) === 'marketing'));
    expect(networkPolicyProblems(withoutOwn, MONITORING, PERSONAL_DATA)).toEqual(['crm-marketing: no allow policy selects it']);
    c.policy('sales').spec.ingress!.push({ ports: [{ port: 'http' }] });
    c.policy('service-desk').spec.ingress!.push({ from: [{ namespaceSelector: {} }] });
    // Personal-data key fetches are for owners only: marketing keeps no keys.
    c.policy('marketing').spec.ingress!.push({ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'crm', 'app.kubernetes.io/component': 'analytics' } } }] });
    expect(networkPolicyProblems(c.objects, MONITORING, PERSONAL_DATA)).toEqual([
      'crm-sales: subgraph ingress from anywhere',
      'crm-service-desk: subgraph ingress from {"namespaceSelector":{}}',
      'crm-marketing: subgraph ingress from {"podSelector":{"matchLabels":{"app.kubernetes.io/name":"crm","app.kubernetes.io/component":"analytics"}}}',
    ]);
  });

  it('secrets', () => {
    const c = copy();
    c.configMap('crm-admin-env').data.KEYCLOAK_ADMIN_CLIENT_SECRET = 'in the open';
    c.configMap('crm-sales-env').data.NOTE = 'the password is demo-gateway-secret-sales-000000002';
    const marketingEnv = c.container('marketing').env!;
    marketingEnv[marketingEnv.findIndex((v) => v.name === 'SMTP_URL')] = { name: 'SMTP_URL', value: 'smtp://u:p@mail:587' };
    expect(secretLeakProblems(c.objects)).toEqual([
      'ConfigMap crm-sales-env.NOTE holds a Secret\'s value',
      'ConfigMap crm-admin-env holds KEYCLOAK_ADMIN_CLIENT_SECRET',
      'crm-marketing: SMTP_URL as a plain value',
      'crm-marketing: SMTP_URL not from a Secret',
      'a Secret value appears outside Secrets',
    ]);
  });

  it("the gateway's subgraph settings", () => {
    const c = copy();
    c.configMap('crm-gateway-env').data.SUBGRAPH_SALES_URL = 'http://127.0.0.1:4002/graphql';
    c.container('gateway').env = c.container('gateway').env!.filter((v) => v.name !== 'SUBGRAPH_ADMIN_SECRET');
    expect(gatewayEnvProblems(c.objects, 'crm')).toEqual([
      'SUBGRAPH_SALES_URL is http://127.0.0.1:4002/graphql, not http://crm-sales:4002/graphql',
      'SUBGRAPH_ADMIN_SECRET not from a Secret',
    ]);
  });

  it('schema validation', () => {
    const c = copy();
    (c.container('sales').securityContext as Record<string, unknown>).readOnlyRootFilesystm = true;
    (c.policy('admin').spec as Record<string, unknown>).policyType = ['Ingress'];
    const { status, output } = validate([c.deployment('sales'), c.policy('admin')]);
    expect(status).toBe(1);
    expect(output).toContain("'readOnlyRootFilesystm' was unexpected");
    expect(output).toContain("'policyType' was unexpected");
  });
});
