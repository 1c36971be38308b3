#!/usr/bin/env node
// The platform's command line (CUS-5): `pnpm crm import customers FILE` and `pnpm crm export customers`.
// Talks to the gateway like any client: a Keycloak token (password grant of the demo-only crm-cli
// client), GraphQL for the import job, the streamed /exports/customers download for exports.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const USAGE = `Usage:
  pnpm crm import customers FILE [options]       import a .csv or .xlsx file as a job, with a progress bar
  pnpm crm export customers [--format csv|xlsx|xml] [--out FILE] [--filter JSON] [--search TEXT] [--order-by ORDER]

Options:
  --user NAME         Keycloak user (default $CRM_USER, else sales.rep)
  --password SECRET   its password (default $CRM_PASSWORD, else asked for)
  --gateway URL       the gateway (default $CRM_GATEWAY_URL, else http://127.0.0.1:4000)
  --keycloak URL      Keycloak (default $KEYCLOAK_URL, else .local/infra.env, else http://127.0.0.1:8080)
  --realm NAME        realm (default crm)
  --format FORMAT     import: CSV or XLSX (default from the file name); export: csv, xlsx or xml (default csv)
  --errors N          import: how many row errors to print at the end (default 20)

Import file columns (header row required): name (required), email, phone, phones (;-separated),
gender, birthday (YYYY-MM-DD), organization, source, tags (;-separated), level, lifecycle_stage,
country, province, city, street, postal_code, id_type, id_number, notes.`;

const CHUNK_BYTES = 1024 * 1024;
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
// `pnpm crm` runs in the repo root; file names are relative to where the user typed the command.
const userCwd = process.env.INIT_CWD ?? process.cwd();

function parseArgs(argv) {
  const positional = [];
  const options = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg.startsWith('--')) {
      const [key, inline] = arg.slice(2).split(/=(.*)/s);
      options[key] = inline ?? argv[++i];
      if (options[key] === undefined) fail(`--${key} needs a value`);
    } else positional.push(arg);
  }
  return { positional, options };
}

function fail(message) {
  console.error(`crm: ${message}`);
  process.exit(1);
}

function infraEnv() {
  const file = join(root, '.local', 'infra.env');
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => /^\s*(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line))
      .filter(Boolean)
      .map((m) => [m[1], m[2].replace(/^(['"])(.*)\1$/, '$2')]),
  );
}

/** Reads a password from the terminal without echoing it. */
async function askPassword(prompt) {
  if (!process.stdin.isTTY) fail('no password: pass --password or set CRM_PASSWORD');
  process.stderr.write(prompt);
  process.stdin.setRawMode(true);
  process.stdin.resume();
  let value = '';
  return new Promise((done) => {
    const onData = (buffer) => {
      for (const char of buffer.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          process.stdin.setRawMode(false);
          process.stdin.pause();
          process.stdin.off('data', onData);
          process.stderr.write('\n');
          return done(value);
        }
        if (char === '\u0003') process.exit(130);
        if (char === '\u007f') value = value.slice(0, -1);
        else value += char;
      }
    };
    process.stdin.on('data', onData);
  });
}

/** Logs in with the password grant and keeps a fresh access token (they live a few minutes). */
async function session(options) {
  const infra = infraEnv();
  const keycloak = (options.keycloak ?? process.env.KEYCLOAK_URL ?? infra.KEYCLOAK_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  const realm = options.realm ?? process.env.KEYCLOAK_REALM ?? infra.KEYCLOAK_REALM ?? 'crm';
  const username = options.user ?? process.env.CRM_USER ?? 'sales.rep';
  const password = options.password ?? process.env.CRM_PASSWORD ?? (await askPassword(`Password for ${username}: `));
  let token;
  let fetchedAt = 0;
  const login = async () => {
    let response;
    try {
      response = await fetch(`${keycloak}/realms/${realm}/protocol/openid-connect/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'password', client_id: 'crm-cli', username, password, scope: 'openid' }),
      });
    } catch (error) {
      fail(`cannot reach Keycloak at ${keycloak}: ${error.cause?.message ?? error.message}`);
    }
    if (!response.ok) fail(`login of ${username} failed (${response.status}): ${await response.text()}`);
    token = (await response.json()).access_token;
    fetchedAt = Date.now();
  };
  await login();
  return {
    username,
    async authorization() {
      if (Date.now() - fetchedAt > 60_000) await login();
      return `Bearer ${token}`;
    },
  };
}

function gatewayOf(options) {
  return (options.gateway ?? process.env.CRM_GATEWAY_URL ?? 'http://127.0.0.1:4000').replace(/\/(graphql)?$/, '');
}

async function graphqlClient(options) {
  const auth = await session(options);
  const url = `${gatewayOf(options)}/graphql`;
  const call = async (query, variables) => {
    let response;
    try {
      response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: await auth.authorization() }, body: JSON.stringify({ query, variables }) });
    } catch (error) {
      fail(`cannot reach the gateway at ${url}: ${error.cause?.message ?? error.message}`);
    }
    const body = await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}` }] }));
    if (body.errors?.length) {
      const [first] = body.errors;
      const fields = (first.extensions?.fields ?? []).map((f) => `\n  ${f.field}: ${f.message}`).join('');
      fail(`${first.message}${first.extensions?.code ? ` (${first.extensions.code})` : ''}${fields}`);
    }
    return body.data;
  };
  return { call, auth };
}

const fmt = (n) => Number(n ?? 0).toLocaleString('en-US');

function progressLine(job, rate) {
  const total = job.total ?? 0;
  const share = total > 0 ? job.done / total : 0;
  const width = 30;
  const filled = Math.round(share * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  const counts = total > 0 ? `${fmt(job.done)}/${fmt(total)} ${String(Math.floor(share * 100)).padStart(3)}%` : job.status === 'RUNNING' ? 'counting rows…' : job.status.toLowerCase();
  return `[${bar}] ${counts} · ${fmt(Math.round(rate))} rows/s · created ${fmt(job.created)} skipped ${fmt(job.skipped)} failed ${fmt(job.failed)}`;
}

const JOB_FIELDS = 'id status total done created skipped failed unknownColumns failureReason';

async function importCustomers(file, options) {
  if (!file) fail('which file? pnpm crm import customers FILE');
  const path = resolve(userCwd, file);
  if (!existsSync(path)) fail(`no such file: ${path}`);
  const format = (options.format ?? (/\.xlsx$/i.test(path) ? 'XLSX' : /\.csv$/i.test(path) ? 'CSV' : '')).toUpperCase();
  if (!['CSV', 'XLSX'].includes(format)) fail('cannot tell the format from the file name: pass --format csv or --format xlsx');
  const { size } = statSync(path);
  const hash = createHash('sha256');
  for await (const chunk of (await open(path)).createReadStream()) hash.update(chunk);
  const sha256 = hash.digest('hex');
  const { call } = await graphqlClient(options);

  const { startCustomerImport: job } = await call(`mutation($input: StartCustomerImportInput!) { startCustomerImport(input: $input) { id } }`, {
    input: { filename: basename(path), format, sizeBytes: size, sha256 },
  });
  console.error(`import ${job.id}: uploading ${basename(path)} (${fmt(size)} bytes, ${format})`);
  const handle = await open(path);
  const buffer = Buffer.alloc(CHUNK_BYTES);
  for (let index = 0, offset = 0; offset < size; index += 1) {
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, offset);
    await call(`mutation($id: ID!, $i: Int!, $d: String!) { uploadCustomerImportChunk(jobId: $id, index: $i, dataBase64: $d) { id } }`, {
      id: job.id,
      i: index,
      d: buffer.subarray(0, bytesRead).toString('base64'),
    });
    offset += bytesRead;
  }
  await handle.close();
  const run = () => call(`mutation($id: ID!) { runCustomerImport(jobId: $id) { ${JOB_FIELDS} } }`, { id: job.id });
  let current = (await run()).runCustomerImport;

  const tty = process.stderr.isTTY;
  const started = Date.now();
  let lastPrinted = 0;
  let lastProgress = { done: current.done, at: Date.now() };
  let rate = 0;
  while (current.status !== 'COMPLETED' && current.status !== 'FAILED') {
    await new Promise((r) => setTimeout(r, 500));
    current = (await call(`query($id: ID!) { customerImportJob(id: $id) { ${JOB_FIELDS} } }`, { id: job.id })).customerImportJob;
    const now = Date.now();
    if (current.done !== lastProgress.done) {
      const instant = ((current.done - lastProgress.done) / (now - lastProgress.at)) * 1000;
      rate = rate === 0 ? instant : rate * 0.6 + instant * 0.4;
      lastProgress = { done: current.done, at: now };
    } else if (now - lastProgress.at > 60_000) {
      // No progress for a minute: the process running it may have gone away; running again resumes it.
      current = (await run()).runCustomerImport;
      lastProgress = { done: current.done, at: now };
    }
    if (tty) process.stderr.write(`\r${progressLine(current, rate)}\u001b[K`);
    else if (now - lastPrinted > 5000) {
      console.error(progressLine(current, rate));
      lastPrinted = now;
    }
  }
  if (tty) process.stderr.write(`\r${progressLine(current, current.done / Math.max(0.001, (Date.now() - started) / 1000))}\u001b[K\n`);

  if (current.status === 'FAILED') fail(`import ${job.id} failed: ${current.failureReason}`);
  const seconds = (Date.now() - started) / 1000;
  console.log(`import ${job.id} completed in ${seconds.toFixed(1)} s: ${fmt(current.total)} rows, ${fmt(current.created)} created, ${fmt(current.skipped)} skipped (already imported), ${fmt(current.failed)} failed`);
  if (current.unknownColumns.length) console.log(`ignored columns: ${current.unknownColumns.join(', ')}`);
  const limit = Number(options.errors ?? 20);
  if (limit > 0 && current.failed + current.unknownColumns.length > 0) {
    const { customerImportJob } = await call(`query($id: ID!, $n: Int) { customerImportJob(id: $id) { errors(first: $n) { totalCount edges { node { row field message } } } } }`, {
      id: job.id,
      n: Math.min(limit, 500),
    });
    const { totalCount, edges } = customerImportJob.errors;
    console.log(`first ${edges.length} of ${fmt(totalCount)} problems:`);
    for (const { node } of edges) console.log(`  row ${node.row}${node.field ? `, ${node.field}` : ''}: ${node.message}`);
  }
}

async function exportCustomers(options) {
  const format = (options.format ?? 'csv').toLowerCase();
  const auth = await session(options);
  const params = new URLSearchParams({ format });
  if (options.filter) params.set('filter', options.filter);
  if (options.search) params.set('search', options.search);
  if (options['order-by']) params.set('orderBy', options['order-by']);
  const url = `${gatewayOf(options)}/exports/customers?${params}`;
  let response;
  try {
    response = await fetch(url, { headers: { authorization: await auth.authorization() } });
  } catch (error) {
    fail(`cannot reach the gateway at ${url}: ${error.cause?.message ?? error.message}`);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const first = body?.errors?.[0];
    const fields = (first?.extensions?.fields ?? []).map((f) => `\n  ${f.field}: ${f.message}`).join('');
    fail(`export refused (${response.status}): ${first?.message ?? response.statusText}${fields}`);
  }
  const suggested = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `customers.${format}`;
  const out = options.out === '-' ? null : resolve(userCwd, options.out ?? suggested);
  const started = Date.now();
  let bytes = 0;
  const counter = new TransformStream({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body.pipeThrough(counter)), out ? createWriteStream(out) : process.stdout);
  if (out) console.error(`exported ${fmt(bytes)} bytes (${format}) to ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const { positional, options } = parseArgs(process.argv.slice(2));
const [command, entity, file] = positional;
if (options.help || !command) {
  console.log(USAGE);
  process.exit(command || options.help ? 0 : 1);
}
if (entity !== 'customers') fail(`unknown: ${command} ${entity ?? ''}\n${USAGE}`);
if (command === 'import') await importCustomers(file, options);
else if (command === 'export') await exportCustomers(options);
else fail(`unknown command ${command}\n${USAGE}`);
