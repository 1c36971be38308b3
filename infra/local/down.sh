#!/usr/bin/env bash
# pnpm infra:down [--purge]: stops the servers started by infra/local/up.sh, by their PID files only
# (SIGTERM, up to 20 s, then SIGKILL). --purge also deletes their data and infra.env (logs stay).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=0
for arg in "$@"; do
  case "$arg" in
    --purge) purge=1 ;;
    -h | --help)
      sed -n '2,3s/^# //p' "$0"
      exit 0
      ;;
    *) die "unknown argument: $arg (usage: down.sh [--purge])" ;;
  esac
done

mkdir -p "$PID_DIR"
exec 9> "$CRM_STATE_DIR/.lock"
flock -w 900 9 || die "another infra up/down holds $CRM_STATE_DIR/.lock"

# Stop them in parallel: Kafka's controlled shutdown alone takes a few seconds.
stopping=()
for file in "$PID_DIR"/*.pid; do
  [ -e "$file" ] || continue
  server="$(basename "$file" .pid)"
  stop_server "$server" &
  stopping+=($!)
done
status=0
for pid in "${stopping[@]}"; do wait "$pid" || status=1; done
[ ${#stopping[@]} -gt 0 ] || crm_log "nothing running in $CRM_STATE_DIR"

if [ "$purge" = 1 ]; then
  rm -rf "$DATA_DIR" "$ENV_FILE"
  crm_log "purged $DATA_DIR and $ENV_FILE"
fi
exit "$status"
