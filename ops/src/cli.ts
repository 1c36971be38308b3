#!/usr/bin/env node
/**
 * `pnpm backup --out DIR` and `pnpm restore --from DIR`: every service database and the Keycloak realm
 * (SYS-5). Settings come from the environment (MONGO_URL, KEYCLOAK_URL, KEYCLOAK_REALM,
 * KEYCLOAK_ADMIN_USER, KEYCLOAK_ADMIN_PASSWORD), else from the local infrastructure (.local/).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backup, restore, SERVICE_DATABASES } from './backup.js';

const USAGE = `Usage:
  pnpm backup --out DIR [--databases a,b,...] [--no-keycloak]
  pnpm restore --from DIR [--database-suffix S] [--realm NAME] [--client-secret CLIENT=SECRET ...] [--new-user-ids] [--no-keycloak]

A restore only writes into empty databases and a realm that does not exist yet; everything is
checked before anything is written. --new-user-ids is for a copy beside the original in the same
Keycloak (user ids are taken there); a real restore keeps them, since records name owners by id.`;

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const userCwd = process.env.INIT_CWD ?? process.cwd();

function localSettings(): Record<string, string> {
  const file = join(root, '.local', 'infra.env');
  const env = existsSync(file) ? Object.fromEntries(readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])) : {};
  const passwordFile = join(root, '.local', 'keycloak-admin-password');
  if (existsSync(passwordFile)) env.KEYCLOAK_ADMIN_PASSWORD = readFileSync(passwordFile, 'utf8').trim();
  return { KEYCLOAK_ADMIN_USER: 'kcadmin', ...env };
}

function parse(argv: string[]) {
  const options: Record<string, string[]> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`Unexpected ${arg}`);
    if (arg === '--no-keycloak' || arg === '--help' || arg === '--new-user-ids') flags.add(arg.slice(2));
    else (options[arg.slice(2)] ??= []).push(argv[++i] ?? '');
  }
  return { options, flags };
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const { options, flags } = parse(rest);
  if (flags.has('help') || (command !== 'backup' && command !== 'restore')) {
    console.log(USAGE);
    process.exit(command ? 1 : 0);
  }
  const settings = { ...localSettings(), ...process.env } as Record<string, string | undefined>;
  const mongoUrl = settings.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
  const keycloakUrl = settings.KEYCLOAK_URL ?? 'http://127.0.0.1:8080';
  const login = { url: keycloakUrl, user: settings.KEYCLOAK_ADMIN_USER ?? 'kcadmin', password: settings.KEYCLOAK_ADMIN_PASSWORD ?? '' };
  const withKeycloak = !flags.has('no-keycloak');
  if (withKeycloak && !login.password) throw new Error('Set KEYCLOAK_ADMIN_PASSWORD (a master-realm admin), or pass --no-keycloak');
  const realm = settings.KEYCLOAK_REALM ?? 'crm';
  if (command === 'backup') {
    const dir = resolve(userCwd, options.out?.[0] ?? '');
    if (!options.out?.[0]) throw new Error('--out DIR is required');
    const databases = options.databases?.[0]?.split(',').filter(Boolean) ?? SERVICE_DATABASES;
    const manifest = await backup({ mongoUrl, databases, dir, ...(withKeycloak ? { keycloak: { login, realm } } : {}) });
    const documents = Object.values(manifest.mongo).flatMap((db) => Object.values(db)).reduce((sum, c) => sum + c.documents, 0);
    console.log(`backup written to ${dir}: ${Object.keys(manifest.mongo).length} databases, ${documents} documents${manifest.keycloak ? `, realm ${realm} with ${manifest.keycloak.users} users` : ''}`);
  } else {
    if (!options.from?.[0]) throw new Error('--from DIR is required');
    const clientSecrets = Object.fromEntries((options['client-secret'] ?? []).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
    const todo = await restore({
      mongoUrl,
      dir: resolve(userCwd, options.from[0]),
      ...(options['database-suffix']?.[0] ? { databaseSuffix: options['database-suffix'][0] } : {}),
      ...(withKeycloak ? { keycloak: { login, ...(options.realm?.[0] ? { realm: options.realm[0] } : {}), clientSecrets, newUserIds: flags.has('new-user-ids') } } : {}),
    });
    console.log('restore finished');
    for (const item of todo) console.log(`  still to do: ${item}`);
  }
}

main().catch((error: unknown) => {
  console.error(`crm-ops: ${(error as Error).message}`);
  process.exit(1);
});
