import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRealmRestore, dumpRealm, restoreRealm, type KeycloakAdminLogin, type RestoreRealmOptions } from './keycloak-dump.js';
import { checkRestore, dumpDatabases, restoreDatabases, type DatabaseSummary } from './mongo-dump.js';

/** The databases of the six services (their MONGO_DB defaults). */
export const SERVICE_DATABASES = ['crm_customers', 'crm_sales', 'crm_service_desk', 'crm_marketing', 'crm_analytics', 'crm_admin'];

export interface Manifest {
  format: 'crm-backup/1';
  createdAt: string;
  mongo: Record<string, DatabaseSummary>;
  keycloak: { realm: string; users: number; sha256: string } | null;
}

export interface BackupOptions {
  mongoUrl: string;
  databases: string[];
  keycloak?: { login: KeycloakAdminLogin; realm: string };
  dir: string;
}

/** Writes a backup into an empty (or new) folder; the manifest is written last, so a half backup has none. */
export async function backup(options: BackupOptions): Promise<Manifest> {
  if (existsSync(options.dir) && readdirSync(options.dir).length > 0) throw new Error(`${options.dir} is not empty`);
  mkdirSync(options.dir, { recursive: true });
  const mongo = await dumpDatabases(options.mongoUrl, options.databases, options.dir);
  const keycloak = options.keycloak ? { realm: options.keycloak.realm, ...(await dumpRealm(options.keycloak.login, options.keycloak.realm, options.dir)) } : null;
  const manifest: Manifest = { format: 'crm-backup/1', createdAt: new Date().toISOString(), mongo, keycloak };
  writeFileSync(join(options.dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}

export interface RestoreOptions {
  mongoUrl: string;
  dir: string;
  /** Appended to each database name (restoring beside the originals, e.g. to compare). */
  databaseSuffix?: string;
  keycloak?: { login: KeycloakAdminLogin } & RestoreRealmOptions;
}

/** Restores a backup into an empty installation; returns what the operator must still do. */
export async function restore(options: RestoreOptions): Promise<string[]> {
  const manifestFile = join(options.dir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`${options.dir} holds no manifest.json: not a finished backup`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  if (manifest.format !== 'crm-backup/1') throw new Error(`Unknown backup format ${String(manifest.format)}`);
  const rename = (name: string) => `${name}${options.databaseSuffix ?? ''}`;
  // Everything is checked before anything is written: no half restore from a bad backup or a busy target.
  await checkRestore(options.mongoUrl, options.dir, manifest.mongo, rename);
  if (options.keycloak && manifest.keycloak) await checkRealmRestore(options.keycloak.login, options.dir, manifest.keycloak.sha256, options.keycloak);
  const todo: string[] = [];
  if (options.keycloak && manifest.keycloak) todo.push(...(await restoreRealm(options.keycloak.login, options.dir, options.keycloak)));
  await restoreDatabases(options.mongoUrl, options.dir, manifest.mongo, rename);
  return todo;
}
