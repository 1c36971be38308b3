// The chart's rules as checks over rendered objects. Each returns the problems it finds (empty: the
// rule holds), so a test can also show that a deliberately broken render is caught.
import { type K8sObject } from './helm.js';

export const SUBGRAPHS = [
  { name: 'customers', port: 4001 },
  { name: 'sales', port: 4002 },
  { name: 'service-desk', port: 4003 },
  { name: 'marketing', port: 4004 },
  { name: 'analytics', port: 4005 },
  { name: 'admin', port: 4006 },
] as const;
export const stem = (name: string): string => name.toUpperCase().replace(/-/g, '_');

/** Names whose values are secret: they must come from a Secret (secretKeyRef), never a ConfigMap or env.value. */
export const SECRET_NAME = /^(MONGO_URL|SMTP_URL|GATEWAY_SECRET|PERSONAL_DATA_SECRET|KEYCLOAK_ADMIN_CLIENT_SECRET|CUSTOMER_PII_.*|SUBGRAPH_.*_SECRET)$|PASSWORD|TOKEN|SECRET/;

type Labels = Record<string, string>;
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: { command: string[] } } };
}
export interface PodSpec {
  containers: Container[];
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  volumes?: { name: string; emptyDir?: object; configMap?: { name: string } }[];
}
export interface Deployment extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Labels };
    strategy?: { type: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
    template: { metadata: { labels: Labels; annotations?: Record<string, string> }; spec: PodSpec };
  };
}
interface Peer {
  podSelector?: { matchLabels?: Labels; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  namespaceSelector?: { matchLabels?: Labels };
  ipBlock?: { cidr: string };
}
export interface NetworkPolicy extends K8sObject {
  spec: {
    podSelector: { matchLabels?: Labels };
    policyTypes?: string[];
    ingress?: { from?: Peer[]; ports?: { port: number | string; protocol?: string }[] }[];
    egress?: { to?: Peer[]; ports?: { port: number | string; protocol?: string }[] }[];
  };
}

export const ofKind = <T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string): T[] => objects.filter((o) => o.kind === kind) as T[];
export const componentOf = (o: K8sObject): string | undefined => o.metadata.labels?.['app.kubernetes.io/component'];
const selects = (selector: Labels | undefined, labels: Labels): boolean => Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
export const podLabels = (d: Deployment): Labels => d.spec.template.metadata.labels;

/** A container's environment as the pod sees it: ConfigMap (envFrom) entries, then env (value or secret reference). */
export function containerEnv(objects: K8sObject[], container: Container): Map<string, EnvVar> {
  const env = new Map<string, EnvVar>();
  for (const from of container.envFrom ?? []) {
    if (!from.configMapRef) continue;
    const configMap = ofKind<K8sObject & { data?: Record<string, string> }>(objects, 'ConfigMap').find((c) => c.metadata.name === from.configMapRef!.name);
    if (!configMap) throw new Error(`envFrom names ConfigMap ${from.configMapRef.name}, which is not rendered`);
    for (const [name, value] of Object.entries(configMap.data ?? {})) env.set(name, { name, value });
  }
  for (const variable of container.env ?? []) env.set(variable.name, variable);
  return env;
}

export function probeProblems(deployments: Deployment[]): string[] {
  const problems: string[] = [];
  for (const d of deployments) {
    for (const c of d.spec.template.spec.containers) {
      const http = c.ports?.find((p) => p.name === 'http');
      if (!http) problems.push(`${d.metadata.name}: no port named http`);
      const want = { startupProbe: '/healthz', livenessProbe: '/healthz', readinessProbe: '/readyz' } as const;
      for (const [probe, path] of Object.entries(want) as [keyof typeof want, string][]) {
        const get = c[probe]?.httpGet;
        if (!get) problems.push(`${d.metadata.name}/${c.name}: no ${probe}`);
        else if (get.path !== path || (get.port !== 'http' && get.port !== http?.containerPort)) problems.push(`${d.metadata.name}/${c.name}: ${probe} is ${get.path} on ${get.port}`);
      }
    }
  }
  return problems;
}

export function resourceProblems(deployments: Deployment[]): string[] {
  const problems: string[] = [];
  for (const d of deployments) {
    for (const c of d.spec.template.spec.containers) {
      for (const kind of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) {
          if (!c.resources?.[kind]?.[resource]) problems.push(`${d.metadata.name}/${c.name}: no ${kind}.${resource}`);
        }
      }
    }
  }
  return problems;
}

export function securityProblems(deployments: Deployment[]): string[] {
  const problems: string[] = [];
  for (const d of deployments) {
    const pod = d.spec.template.spec;
    if (pod.automountServiceAccountToken !== false) problems.push(`${d.metadata.name}: mounts a service account token`);
    if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${d.metadata.name}: no RuntimeDefault seccomp profile`);
    const tmp = pod.volumes?.find((v) => v.emptyDir);
    for (const c of pod.containers) {
      const sc = c.securityContext ?? {};
      if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) problems.push(`${d.metadata.name}/${c.name}: may run as root`);
      if ((sc.runAsUser ?? pod.securityContext?.runAsUser) !== 10001) problems.push(`${d.metadata.name}/${c.name}: not uid 10001`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${d.metadata.name}/${c.name}: writable root filesystem`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${d.metadata.name}/${c.name}: privilege escalation allowed`);
      if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${d.metadata.name}/${c.name}: capabilities not all dropped`);
      if (!tmp || !c.volumeMounts?.some((m) => m.name === tmp.name && m.mountPath === '/tmp')) problems.push(`${d.metadata.name}/${c.name}: no emptyDir at /tmp`);
    }
  }
  return problems;
}

/** Rolling updates never drop below the wanted count; the pod outlives its preStop pause plus its drain. */
export function rolloutProblems(objects: K8sObject[], deployments: Deployment[], gatewayDrainMs = 10_000): string[] {
  const problems: string[] = [];
  for (const d of deployments) {
    const rolling = d.spec.strategy?.rollingUpdate;
    if (d.spec.strategy?.type !== 'RollingUpdate' || rolling?.maxUnavailable !== 0 || rolling?.maxSurge !== 1) {
      problems.push(`${d.metadata.name}: strategy is not RollingUpdate maxUnavailable 0, maxSurge 1`);
    }
    const pod = d.spec.template.spec;
    for (const c of pod.containers) {
      const preStop = c.lifecycle?.preStop;
      const pauseMs = preStop?.sleep ? preStop.sleep.seconds * 1000 : Number(/setTimeout\(\(\) => \{\}, (\d+)\)/.exec(preStop?.exec?.command.join(' ') ?? '')?.[1] ?? NaN);
      if (!(pauseMs > 0)) {
        problems.push(`${d.metadata.name}/${c.name}: no preStop pause`);
        continue;
      }
      const grace = containerEnv(objects, c).get('SHUTDOWN_GRACE_MS')?.value;
      const drainMs = componentOf(d) === 'gateway' ? gatewayDrainMs : Number(grace ?? 10_000);
      if (!((pod.terminationGracePeriodSeconds ?? 30) * 1000 > pauseMs + drainMs)) {
        problems.push(`${d.metadata.name}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} does not cover ${pauseMs} ms pause + ${drainMs} ms drain`);
      }
    }
  }
  return problems;
}

/** Every Deployment has a PDB; an HPA exactly when autoscaling is on (and no fixed replicas then). */
export function availabilityProblems(objects: K8sObject[], autoscaling: boolean): string[] {
  const problems: string[] = [];
  const pdbs = ofKind<K8sObject & { spec: { selector: { matchLabels: Labels }; minAvailable?: number; maxUnavailable?: number } }>(objects, 'PodDisruptionBudget');
  const hpas = ofKind<K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number } }>(objects, 'HorizontalPodAutoscaler');
  for (const d of ofKind<Deployment>(objects, 'Deployment')) {
    const pdb = pdbs.filter((p) => selects(p.spec.selector.matchLabels, podLabels(d)));
    if (pdb.length !== 1) problems.push(`${d.metadata.name}: ${pdb.length} PodDisruptionBudgets`);
    else if (pdb[0]!.spec.minAvailable === undefined && pdb[0]!.spec.maxUnavailable === undefined) problems.push(`${d.metadata.name}: PDB without a limit`);
    const hpa = hpas.filter((h) => h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === d.metadata.name);
    if (autoscaling) {
      if (hpa.length !== 1) problems.push(`${d.metadata.name}: ${hpa.length} HorizontalPodAutoscalers`);
      else if (!(hpa[0]!.spec.minReplicas >= 2 && hpa[0]!.spec.maxReplicas >= hpa[0]!.spec.minReplicas)) problems.push(`${d.metadata.name}: HPA range ${hpa[0]!.spec.minReplicas}..${hpa[0]!.spec.maxReplicas}`);
      if (d.spec.replicas !== undefined) problems.push(`${d.metadata.name}: fixed replicas fight the HPA`);
    } else {
      if (hpa.length > 0) problems.push(`${d.metadata.name}: an HPA although autoscaling is off`);
      if (!(d.spec.replicas !== undefined && d.spec.replicas >= 1)) problems.push(`${d.metadata.name}: no replica count`);
    }
  }
  return problems;
}

const isDefaultDeny = (p: NetworkPolicy): boolean =>
  !!p.spec.policyTypes?.includes('Ingress') && !!p.spec.policyTypes.includes('Egress') && !p.spec.ingress?.length && !p.spec.egress?.length;

/** Services that fetch personal-data keys (packages/personal-data) from the services that own them. */
export interface PersonalData {
  services: string[];
  owners: Record<string, string>;
}

/** The components a peer selects among crm pods, or undefined when it may select anything else too. */
function crmComponentsOf(peer: Peer): string[] | undefined {
  if (peer.ipBlock || !peer.podSelector) return undefined;
  const labels = peer.podSelector.matchLabels ?? {};
  if (labels['app.kubernetes.io/name'] !== 'crm') return undefined;
  const component = labels['app.kubernetes.io/component'];
  if (component) return [component];
  const inList = peer.podSelector.matchExpressions?.find((e) => e.key === 'app.kubernetes.io/component' && e.operator === 'In');
  return inList?.values;
}

/**
 * A default-deny policy covers every pod; every Deployment also has its own allow policy; a subgraph
 * accepts ingress only from the gateway and the monitoring peers given (and an owner of personal-data
 * keys from the services that open that data).
 */
export function networkPolicyProblems(objects: K8sObject[], monitoringPeers: Peer[], personalData: PersonalData): string[] {
  const problems: string[] = [];
  const policies = ofKind<NetworkPolicy>(objects, 'NetworkPolicy');
  const denyAll = policies.filter(isDefaultDeny);
  for (const d of ofKind<Deployment>(objects, 'Deployment')) {
    const labels = podLabels(d);
    if (!denyAll.some((p) => selects(p.spec.podSelector.matchLabels, labels))) problems.push(`${d.metadata.name}: no default-deny policy selects it`);
    const own = policies.filter((p) => !isDefaultDeny(p) && selects(p.spec.podSelector.matchLabels, labels));
    if (own.length === 0) problems.push(`${d.metadata.name}: no allow policy selects it`);
    const component = componentOf(d)!;
    if (component === 'gateway') continue;
    const allowed = new Set(['gateway', ...(Object.values(personalData.owners).includes(component) ? personalData.services : [])]);
    for (const p of own) {
      for (const rule of p.spec.ingress ?? []) {
        if (!rule.from?.length) {
          problems.push(`${p.metadata.name}: subgraph ingress from anywhere`);
          continue;
        }
        for (const peer of rule.from) {
          const components = crmComponentsOf(peer);
          const fromAllowed = components !== undefined && components.length > 0 && components.every((c) => allowed.has(c));
          const fromMonitoring = monitoringPeers.some((m) => JSON.stringify(m) === JSON.stringify(peer));
          if (!fromAllowed && !fromMonitoring) problems.push(`${p.metadata.name}: subgraph ingress from ${JSON.stringify(peer)}`);
        }
      }
    }
  }
  if (denyAll.length === 0) problems.push('no default-deny NetworkPolicy');
  return problems;
}

/**
 * Secret-looking names never sit in a ConfigMap or a plain env value, and no value of a rendered
 * Secret appears anywhere outside Secrets.
 */
export function secretLeakProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const secretValues = [
    ...new Set(
      ofKind<K8sObject & { data?: Record<string, string>; stringData?: Record<string, string> }>(objects, 'Secret').flatMap((s) => [
        ...Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')),
        ...Object.values(s.stringData ?? {}),
      ]),
    ),
  ];
  for (const cm of ofKind<K8sObject & { data?: Record<string, string> }>(objects, 'ConfigMap')) {
    for (const [key, value] of Object.entries(cm.data ?? {})) {
      if (SECRET_NAME.test(key)) problems.push(`ConfigMap ${cm.metadata.name} holds ${key}`);
      for (const secret of secretValues) if (value.includes(secret)) problems.push(`ConfigMap ${cm.metadata.name}.${key} holds a Secret's value`);
    }
  }
  for (const d of ofKind<Deployment>(objects, 'Deployment')) {
    for (const c of d.spec.template.spec.containers) {
      for (const variable of c.env ?? []) {
        if (variable.value !== undefined && SECRET_NAME.test(variable.name)) problems.push(`${d.metadata.name}: ${variable.name} as a plain value`);
        if (variable.value !== undefined && secretValues.some((s) => variable.value!.includes(s))) problems.push(`${d.metadata.name}: ${variable.name} holds a Secret's value`);
      }
      for (const [name, variable] of containerEnv(objects, c)) {
        if (SECRET_NAME.test(name) && !variable.valueFrom?.secretKeyRef) problems.push(`${d.metadata.name}: ${name} not from a Secret`);
      }
    }
  }
  const outside = objects.filter((o) => o.kind !== 'Secret').map((o) => JSON.stringify(o));
  if (secretValues.some((secret) => outside.some((text) => text.includes(secret)))) problems.push('a Secret value appears outside Secrets');
  return problems;
}

/** The gateway has a URL and a secret for every subgraph; the URL is the in-cluster Service or the given external one. */
export function gatewayEnvProblems(objects: K8sObject[], release: string, external: Record<string, string> = {}): string[] {
  const problems: string[] = [];
  const gateway = ofKind<Deployment>(objects, 'Deployment').find((d) => componentOf(d) === 'gateway');
  if (!gateway) return ['no gateway Deployment'];
  const env = containerEnv(objects, gateway.spec.template.spec.containers[0]!);
  for (const { name, port } of SUBGRAPHS) {
    const url = env.get(`SUBGRAPH_${stem(name)}_URL`)?.value;
    const want = external[name] ?? `http://${release}-${name}:${port}/graphql`;
    if (url !== want) problems.push(`SUBGRAPH_${stem(name)}_URL is ${url}, not ${want}`);
    if (!env.get(`SUBGRAPH_${stem(name)}_SECRET`)?.valueFrom?.secretKeyRef) problems.push(`SUBGRAPH_${stem(name)}_SECRET not from a Secret`);
  }
  return problems;
}
