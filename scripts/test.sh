#!/usr/bin/env bash
# `pnpm test`: every check and test in the workspace, against the real servers.
# Finds them via .local/infra.env (written by `pnpm infra:up`) unless MONGO_URL, KAFKA_BROKERS and
# KEYCLOAK_URL are already set; without either, tests fall back to testcontainers where Docker exists.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$CRM_ROOT"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

if [ -z "${MONGO_URL:-}${KAFKA_BROKERS:-}${KEYCLOAK_URL:-}" ] && [ -f .local/infra.env ]; then
  set -a
  # shellcheck disable=SC1091
  source .local/infra.env
  set +a
fi

crm_log "lint"
pnpm exec eslint . --max-warnings 0
crm_log "build, typecheck"
pnpm exec turbo run build typecheck --output-logs=errors-only
crm_log "tests (unit, integration, end-to-end)"
# --continue: one run reports every failing package, not only the first.
pnpm exec turbo run test --continue --concurrency="${CRM_TEST_CONCURRENCY:-2}" --output-logs=full "$@"
