// Runs the tools scripts/helm.sh fetched: helm (lint, template) and kubernetes-validate.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const HELM_DIR = join(REPO_ROOT, 'infra/helm');
export const CHART_DIR = join(HELM_DIR, 'crm');
const HELM = join(REPO_ROOT, '.local/tools/bin/helm');
const KUBERNETES_VALIDATE = join(REPO_ROOT, '.local/tools/venv/bin/kubernetes-validate');

/** The Kubernetes version the manifests are rendered for and validated against (kubernetes-validate bundles its schemas). */
export const KUBE_VERSION = '1.35.0';
export const RELEASE = 'crm';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface Rendered {
  text: string;
  objects: K8sObject[];
}

// helm without the user's config and caches: the checks must not depend on the machine's helm setup.
function helmEnv(): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'helm-home-'));
  return { ...process.env, HELM_CONFIG_HOME: home, HELM_CACHE_HOME: home, HELM_DATA_HOME: home };
}

/** `output`: stdout and stderr together (messages); `stdout`: what helm printed as its result (manifests). */
export function helm(args: string[]): { status: number; output: string; stdout: string } {
  const run = spawnSync(HELM, args, { env: helmEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: run.status ?? 1, output: `${run.stdout}${run.stderr}`, stdout: run.stdout };
}

export interface RenderOptions {
  /** Values files, relative to infra/helm. */
  values?: string[];
  set?: string[];
  kubeVersion?: string;
  chartDir?: string;
}

export function render({ values = [], set = [], kubeVersion = KUBE_VERSION, chartDir = CHART_DIR }: RenderOptions = {}): Rendered {
  const args = ['template', RELEASE, chartDir, '--namespace', 'crm', '--kube-version', kubeVersion];
  for (const file of values) args.push('--values', join(HELM_DIR, file));
  for (const pair of set) args.push('--set', pair);
  // stderr may carry notices (e.g. that the chart's supergraph is a link helm followed), not manifests.
  const { status, output, stdout } = helm(args);
  if (status !== 0) throw new Error(`helm ${args.join(' ')} failed:\n${output}`);
  const objects = parseAllDocuments(stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
  return { text: stdout, objects };
}

/** The render's error output, for value sets the chart must refuse. */
export function renderError(options: RenderOptions): string {
  try {
    render(options);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('helm template succeeded where it should have failed');
}

/** Kinds whose schemas come with Kubernetes itself (kubernetes-validate knows no custom resources). */
export const isBuiltIn = (o: K8sObject): boolean => !o.apiVersion.includes('.') || o.apiVersion.includes('.k8s.io/');

/** Validates every built-in object against the Kubernetes schemas, strictly (unknown fields fail). */
export function validate(objects: K8sObject[], kubeVersion = KUBE_VERSION): { status: number; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'crm-chart-'));
  const file = join(dir, 'manifests.yaml');
  writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n---\n'));
  const run = spawnSync(KUBERNETES_VALIDATE, ['--strict', '--kubernetes-version', kubeVersion, file], { encoding: 'utf8' });
  return { status: run.status ?? 1, output: `${run.stdout}${run.stderr}` };
}

export function helmVersion(): string {
  return execFileSync(HELM, ['version', '--template', '{{.Version}}'], { encoding: 'utf8' }).trim();
}
