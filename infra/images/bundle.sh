#!/usr/bin/env bash
# Bundles one workspace package for its container image: builds it with its workspace dependencies,
# deploys it with production dependencies only, and keeps what it runs.
#   bash infra/images/bundle.sh [--no-build] <package name> <outdir>      e.g. @crm/sales-service /out
# --no-build: the caller has just built the package and its workspace dependencies (turbo did).
# Every Dockerfile runs this (infra/images/dockerfiles.mjs); so do the tests, where there is no Docker.
# The bundle starts with `node dist/main.js` from <outdir> and writes nothing into it.
set -euo pipefail

build=1
if [ "${1:-}" = --no-build ]; then
  build=0
  shift
fi
if [ $# -ne 2 ]; then
  echo "usage: $0 [--no-build] <package name> <outdir>" >&2
  exit 2
fi
package="$1"
out="$(realpath -m "$2")"
# shellcheck source-path=SCRIPTDIR source=../../scripts/toolchain.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/toolchain.sh"
cd "$CRM_ROOT"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
  echo "$out is not empty" >&2
  exit 2
fi

if [ "$build" = 1 ]; then
  crm_log "build $package and its workspace dependencies"
  pnpm exec turbo run build --filter="$package..." --output-logs=errors-only
fi

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
crm_log "deploy $package (production dependencies)"
# --legacy: the workspace links its packages (no inject-workspace-packages, which would change every
# developer's install); legacy deploy still copies each workspace dependency into the bundle as its
# `files` list it (dist), resolving versions from the lockfile.
pnpm --filter "$package" deploy --legacy --prod --offline "$staging/app" >&2

# What the package runs: its manifest, dist, dependencies, the files its package.json lists (the
# gateway: public/ and supergraph.graphql) and the GraphQL SDL a subgraph reads beside dist
# (schema.graphql and src/modules/*/*.graphql; see @crm/subgraph sdl.ts). Sources, tests and tool
# configs stay behind. `cp -R` writes new files: pnpm hard-links injected packages to the workspace
# sources and the store, which a read-only bundle must not share.
cd "$staging/app"
mkdir -p "$out"
keep=(package.json node_modules dist)
while IFS= read -r entry; do
  [ -n "$entry" ] && [ -e "$entry" ] && keep+=("$entry")
done < <(node -e 'for (const f of require("./package.json").files ?? []) console.log(f)')
[ -f schema.graphql ] && keep+=(schema.graphql)
mapfile -t sdl < <(find src -name '*.graphql' -not -path '*/__tests__/*' 2>/dev/null | sort)
mapfile -t keep < <(printf '%s\n' "${keep[@]}" | sort -u)
cp -R "${keep[@]}" "$out/"
[ ${#sdl[@]} -eq 0 ] || cp --parents "${sdl[@]}" "$out/"
# Command shims name the staging directory and nothing runs them.
find "$out/node_modules" -type d -name .bin -prune -exec rm -rf {} +
# pnpm also hoists the deployed package itself into node_modules/.pnpm/node_modules, as a link back to
# its workspace folder: nothing resolves it there (the package is the bundle's root), and in an image
# it would dangle. Any other link leaving the bundle is an error.
node - "$out" <<'JS'
const { readdirSync, readlinkSync, rmSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');
const out = process.argv[2];
const hoisted = join(out, 'node_modules/.pnpm/node_modules') + '/';
let failed = false;
(function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.isSymbolicLink()) {
      const target = resolve(dirname(path), readlinkSync(path));
      if (target.startsWith(out + '/')) continue;
      if (path.startsWith(hoisted)) rmSync(path);
      else {
        console.error(`${path} points outside the bundle: ${target}`);
        failed = true;
      }
    }
  }
})(out);
process.exit(failed ? 1 : 0);
JS
crm_log "bundled $package into $out ($(du -sh "$out" | cut -f1))"
