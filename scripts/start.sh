#!/usr/bin/env bash
# `pnpm start`: infrastructure up, build, every service and the gateway running with demo data.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$CRM_ROOT"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
started=$(date +%s)

crm_log "installing dependencies"
pnpm install --frozen-lockfile --reporter=silent
crm_log "starting infrastructure (Kafka, Keycloak, MongoDB-compatible store)"
bash infra/local/up.sh
crm_log "building"
pnpm exec turbo run build --output-logs=errors-only
CRM_START_EPOCH="$started" exec node scripts/start.mjs
