import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, subgraphTestEnv, testInfra, uniqueName } from '@crm/testing';
import { repoRoot } from '../../dockerfiles.mjs';

// What the Dockerfiles do, without Docker: bundle.sh builds and deploys a package into a folder, and
// that folder must run on its own as the image runs it: read-only, as user 10001, `node dist/main.js`.
const run = promisify(execFile);
const bundleScript = join(repoRoot, 'infra/images/bundle.sh');
const SHUTDOWN_GRACE_MS = 10_000;
const DEV_ONLY = ['vitest', 'typescript', '@graphql-codegen/cli', '@graphql-codegen/typescript', '@crm/testing', 'testcontainers'];

const infra = await testInfra();
const work = mkdtempSync(join(tmpdir(), 'images-'));
chmodSync(work, 0o755); // user 10001 walks into it
afterAll(async () => {
  await run('chmod', ['-R', 'u+w', work]);
  rmSync(work, { recursive: true, force: true });
});

// Under `pnpm test`, turbo has built both packages and their dependencies before this task (they are
// devDependencies here), and a nested turbo would rewrite every dist in place on its cache hits while
// other packages' tests read them. Run on its own, the test bundles with the build step too.
const buildFlag = process.env.TURBO_HASH ? ['--no-build'] : [];

async function bundle(pkg: string): Promise<string> {
  const out = join(work, pkg.replace(/^@crm\//, ''));
  try {
    await run('bash', [bundleScript, ...buildFlag, pkg, out], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`bundle.sh ${pkg} failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  }
  return out;
}

interface Entry {
  path: string;
  kind: 'file' | 'dir' | 'link';
  size: number;
  mtimeMs: number;
  links: number;
}

function walk(dir: string, entries: Entry[] = []): Entry[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    const kind = stat.isSymbolicLink() ? 'link' : stat.isDirectory() ? 'dir' : 'file';
    entries.push({ path, kind, size: stat.size, mtimeMs: stat.mtimeMs, links: stat.nlink });
    if (kind === 'dir') walk(path, entries);
  }
  return entries;
}

const kib = (dir: string) => run('du', ['-sk', dir]).then(({ stdout }) => Number(stdout.split('\t')[0]));

/** The checks every bundle must pass, whatever it runs. */
function expectSelfContained(dir: string, name: string): void {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  expect(manifest.name).toBe(name);
  expect(existsSync(join(dir, manifest.main))).toBe(true);

  const entries = walk(dir);
  const inside = (path: string) => path.startsWith(`${dir}/`);
  // Every symlink (pnpm's node_modules layout) resolves, and inside the bundle.
  const escaping = entries.filter((e) => e.kind === 'link').filter((e) => !existsSync(e.path) || !inside(realpathSync(e.path)));
  expect(escaping.map((e) => relative(dir, e.path))).toEqual([]);
  // No file shares its inode with the workspace or pnpm's store (pnpm hard-links both into a deploy).
  expect(entries.filter((e) => e.kind === 'file' && e.links > 1).map((e) => relative(dir, e.path))).toEqual([]);

  // Production dependencies only.
  const pnpmDir = readdirSync(join(dir, 'node_modules/.pnpm'));
  for (const dev of DEV_ONLY) {
    expect(existsSync(join(dir, 'node_modules', dev)), dev).toBe(false);
    expect(pnpmDir.filter((entry) => entry.startsWith(`${dev.replace('/', '+')}@`)), dev).toEqual([]);
  }

  // Each workspace dependency is a real folder in the bundle, with the build its exports name.
  const workspaceDeps = Object.entries(manifest.dependencies as Record<string, string>).filter(([, spec]) => spec.startsWith('workspace:')).map(([dep]) => dep);
  expect(workspaceDeps.length).toBeGreaterThan(3);
  for (const dep of workspaceDeps) {
    const real = realpathSync(join(dir, 'node_modules', dep));
    expect(inside(real), `${dep} → ${real}`).toBe(true);
    expect(statSync(real).isDirectory()).toBe(true);
    const depManifest = JSON.parse(readFileSync(join(real, 'package.json'), 'utf8'));
    expect(existsSync(join(real, depManifest.exports['.'].default)), `${dep} ${depManifest.exports['.'].default}`).toBe(true);
    expect(existsSync(join(real, 'src')), `${dep} ships its sources`).toBe(false);
  }

  // Outside node_modules: the build and what it reads, no sources, tests or tool configs.
  const own = entries.filter((e) => !relative(dir, e.path).startsWith('node_modules'));
  const ownFiles = own.filter((e) => e.kind === 'file').map((e) => relative(dir, e.path));
  expect(ownFiles.filter((f) => /\.(ts|tsx|mts)$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
  expect(ownFiles.filter((f) => /(^|\/)__tests__\/|\.test\.|vitest\.config|codegen\.ts|tsconfig|README/.test(f))).toEqual([]);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// As root (CI), the bundle runs as the image's user, which cannot write to a tree owned by root even
// where the mode would let root; node comes along, since root's home (where the toolchain keeps it) is closed to that user.
const asImageUser = process.getuid?.() === 0;
function nodeForImageUser(): string {
  if (!asImageUser) return process.execPath;
  const dir = join(work, 'node-bin');
  mkdirSync(dir, { recursive: true });
  const node = join(dir, 'node');
  if (!existsSync(node)) {
    try {
      linkSync(process.execPath, node);
    } catch {
      copyFileSync(process.execPath, node); // another filesystem
      chmodSync(node, 0o755);
    }
  }
  return node;
}

interface Started {
  base: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
  pid: number;
  /** When it was spawned (ms since the epoch). */
  at: number;
}

/** Starts `node dist/main.js` from a read-only copy of the bundle, with only `env` set. */
async function startReadOnly(bundleDir: string, env: Record<string, string>): Promise<{ started: Started; copy: string }> {
  const copy = `${bundleDir}-ro`;
  await run('cp', ['-R', bundleDir, copy]);
  await run('chmod', ['-R', 'a-w', copy]);
  const scratch = join(work, `${relative(work, bundleDir)}-tmp`);
  mkdirSync(scratch, { recursive: true });
  chmodSync(scratch, 0o1777); // the image's only writable place, /tmp
  const node = nodeForImageUser();
  const port = await freePort();
  const at = Date.now();
  const child = spawn(node, ['dist/main.js'], {
    cwd: copy,
    env: { PATH: `${dirname(node)}:/usr/bin:/bin`, HOME: scratch, TMPDIR: scratch, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asImageUser ? { uid: 10001, gid: 10001 } : {}),
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  afterAll(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { started: { base: `http://127.0.0.1:${port}`, exited, output: () => output, pid: child.pid!, at }, copy };
}

async function statusOf(url: string): Promise<number> {
  return fetch(url, { signal: AbortSignal.timeout(3000) }).then(
    (r) => r.status,
    () => 0,
  );
}

/** SIGTERM, then how the process ended and how long it took. */
async function terminate(started: Started): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const t0 = Date.now();
  process.kill(started.pid, 'SIGTERM');
  const result = await started.exited;
  return { ...result, ms: Date.now() - t0 };
}

// Reported after the run: bundle sizes, time from spawn to ready, time from SIGTERM to exit.
const figures: string[] = [];
afterAll(() => {
  if (figures.length) console.log(`images: ${figures.join('; ')}`);
});

/** The process runs as the image's user (when the test can switch to it). */
function expectImageUser(pid: number): void {
  if (!asImageUser) return;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  expect(status).toMatch(/^Uid:\s+10001\s+10001\s/m);
  expect(status).toMatch(/^Gid:\s+10001\s+10001\s/m);
}

describe('bundle.sh @crm/sales-service (a subgraph)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await bundle('@crm/sales-service');
    figures.push(`sales bundle ${((await kib(dir)) / 1024).toFixed(1)} MiB`);
  });

  it('holds the service, its production dependencies and its GraphQL contract, and nothing of the workspace', () => {
    expectSelfContained(dir, '@crm/sales-service');
    // The SDL files @crm/subgraph reads beside dist at start (schema.graphql and each module's).
    const modules = readdirSync(join(repoRoot, 'services/sales/src/modules')).filter((m) => existsSync(join(repoRoot, 'services/sales/src/modules', m, `${m}.graphql`)));
    expect(modules.length).toBeGreaterThan(5);
    for (const m of modules) expect(readFileSync(join(dir, 'src/modules', m, `${m}.graphql`), 'utf8')).toBe(readFileSync(join(repoRoot, 'services/sales/src/modules', m, `${m}.graphql`), 'utf8'));
    expect(readFileSync(join(dir, 'schema.graphql'), 'utf8')).toBe(readFileSync(join(repoRoot, 'services/sales/schema.graphql'), 'utf8'));
    expect(walk(join(dir, 'src')).filter((e) => e.kind === 'file' && !e.path.endsWith('.graphql'))).toEqual([]);
  });

  it('starts read-only against the real servers, gets ready, and exits 0 on SIGTERM within the grace period', async () => {
    const env = subgraphTestEnv(infra, 'images_sales');
    // Everything a subgraph needs against the real servers (own database, topics and client id),
    // as production sets it.
    const { NODE_ENV: _test, PORT: _port, ...settings } = env;
    const { started, copy } = await startReadOnly(dir, { ...settings, LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS) });
    const before = walk(copy);
    try {
      await eventually(async () => (await statusOf(`${started.base}/healthz`)) === 200, 60_000, 250).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${started.output()}`);
      });
      await eventually(async () => (await statusOf(`${started.base}/readyz`)) === 200, 30_000, 250);
      figures.push(`sales ready after ${Date.now() - started.at} ms`);
      expectImageUser(started.pid);
      const ready = await (await fetch(`${started.base}/readyz`)).json();
      expect(ready).toMatchObject({ ready: true, checks: { mongo: true, kafka: true } });
      // The subgraph answers only the gateway: a request without its secret is refused, not crashed on.
      expect((await fetch(`${started.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })).status).toBeGreaterThanOrEqual(400);

      const ended = await terminate(started);
      expect(ended, started.output()).toMatchObject({ code: 0, signal: null });
      expect(ended.ms).toBeLessThan(SHUTDOWN_GRACE_MS);
      figures.push(`sales stopped ${ended.ms} ms after SIGTERM`);
      expect(started.output()).toContain('"msg":"stopped"');
      expect(walk(copy)).toEqual(before);
    } finally {
      const mongo = new MongoClient(env.MONGO_URL!);
      await mongo.db(env.MONGO_DB!).dropDatabase().finally(() => mongo.close());
    }
  });
});

describe('bundle.sh @crm/gateway', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await bundle('@crm/gateway');
    figures.push(`gateway bundle ${((await kib(dir)) / 1024).toFixed(1)} MiB`);
  });

  it('holds the gateway, its production dependencies, its supergraph and the IDE page', () => {
    expectSelfContained(dir, '@crm/gateway');
    expect(readFileSync(join(dir, 'supergraph.graphql'), 'utf8')).toBe(readFileSync(join(repoRoot, 'gateway/supergraph.graphql'), 'utf8'));
    expect(existsSync(join(dir, 'public/ide.html'))).toBe(true);
    expect(existsSync(join(dir, 'src'))).toBe(false);
  });

  it('starts read-only, answers /healthz, and exits 0 on SIGTERM within the grace period', async () => {
    const { started, copy } = await startReadOnly(dir, {
      KEYCLOAK_URL: infra.keycloakUrl,
      KEYCLOAK_REALM: infra.realm,
      KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      KAFKA_CLIENT_ID: uniqueName('images-gateway'),
      KAFKA_TOPIC_PREFIX: uniqueName('test'),
      ...Object.fromEntries(['CUSTOMERS', 'SALES', 'SERVICE_DESK', 'MARKETING', 'ANALYTICS', 'ADMIN'].map((stem) => [`SUBGRAPH_${stem}_SECRET`, randomBytes(24).toString('base64url')])),
    });
    const before = walk(copy);
    await eventually(async () => (await statusOf(`${started.base}/healthz`)) === 200, 60_000, 250).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${started.output()}`);
    });
    figures.push(`gateway healthy after ${Date.now() - started.at} ms`);
    expectImageUser(started.pid);
    expect(started.output()).toContain('"msg":"supergraph loaded"');
    const ended = await terminate(started);
    expect(ended, started.output()).toMatchObject({ code: 0, signal: null });
    expect(ended.ms).toBeLessThan(SHUTDOWN_GRACE_MS);
    figures.push(`gateway stopped ${ended.ms} ms after SIGTERM`);
    expect(walk(copy)).toEqual(before);
  });
});
