#!/usr/bin/env bash
# pnpm infra:up: starts Kafka (KRaft), Keycloak (realm "crm") and MongoDB as local processes, waits
# until each is ready and writes $CRM_STATE_DIR/infra.env (read by @crm/testing and the services).
# Re-running is safe and fast: servers of ours that are healthy are left alone.
#
# MongoDB: MONGO_URL set -> used as is, nothing started; else mongod if on PATH; else FerretDB.
# Ports: KAFKA_PORT (9092) KAFKA_CONTROLLER_PORT (9093) KEYCLOAK_PORT (8080)
#        KEYCLOAK_MANAGEMENT_PORT (9000) MONGO_PORT (27017). Start timeouts: CRM_INFRA_TIMEOUT (s).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_TIMEOUT="${CRM_INFRA_TIMEOUT:-120}"
KEYCLOAK_TIMEOUT="${CRM_INFRA_TIMEOUT:-300}"
MONGO_TIMEOUT="${CRM_INFRA_TIMEOUT:-60}"
REALM_FILE="$CRM_ROOT/infra/keycloak/crm-realm.json"
KEYCLOAK_ZIP="$CRM_CACHE_DIR/keycloak/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"

mkdir -p "$LOG_DIR" "$PID_DIR" "$DATA_DIR"
# One up/down at a time per state folder (a second one waits, then finds everything running).
exec 9> "$CRM_STATE_DIR/.lock"
flock -w 900 9 || die "another infra up/down holds $CRM_STATE_DIR/.lock"

# --- what to run ---------------------------------------------------------------------------------

if [ -n "${MONGO_URL:-}" ]; then
  MONGO_KIND=external
elif our_pid mongod > /dev/null; then
  MONGO_KIND=mongod
elif our_pid ferretdb > /dev/null; then
  MONGO_KIND=ferretdb # keep the one already running, even if mongod was installed since
elif command -v mongod > /dev/null; then
  MONGO_KIND=mongod
else
  MONGO_KIND=ferretdb
fi

check_prerequisites() {
  local missing=() v major
  command -v curl > /dev/null || missing+=("curl (health checks)")
  if ! command -v "$JAVA" > /dev/null; then
    missing+=("java 17+ (Kafka, Keycloak)")
  else
    v="$("$JAVA" -version 2>&1 | sed -n '1s/.*version "\([^"]*\)".*/\1/p')"
    major="${v%%.*}"
    [ "$major" = 1 ] && major="$(echo "$v" | cut -d. -f2)" # 1.8.0 -> 8
    [ "${major:-0}" -ge 17 ] 2> /dev/null ||
      missing+=("java 17+ (Kafka, Keycloak): '$JAVA' is version ${v:-unknown}; set JAVA_HOME to a JDK 17+")
  fi
  if [ ! -d "$KAFKA_LIBS" ] || { [ ! -x "$KEYCLOAK_HOME/bin/kc.sh" ] && [ ! -f "$KEYCLOAK_ZIP" ]; }; then
    command -v mvn > /dev/null || missing+=("mvn (one-time download of Kafka/Keycloak from Maven Central)")
  fi
  if [ ! -x "$KEYCLOAK_HOME/bin/kc.sh" ]; then
    command -v unzip > /dev/null || missing+=("unzip (one-time unpacking of Keycloak)")
  fi
  if [ "$MONGO_KIND" = ferretdb ] && [ "$FERRETDB_BACKEND" = postgresql ]; then
    [ -x "$POSTGRES_BIN/postgres" ] && [ -x "$POSTGRES_BIN/initdb" ] ||
      missing+=("PostgreSQL server binaries (CRM_FERRETDB_BACKEND=postgresql; e.g. Debian's postgresql package, or set CRM_POSTGRES_BIN)")
    if [ "$(id -u)" = 0 ] && ! id postgres > /dev/null 2>&1; then
      missing+=("a 'postgres' user (PostgreSQL refuses to run as root)")
    fi
  elif [ "$MONGO_KIND" = ferretdb ] && [ "$FERRETDB_BACKEND" != sqlite ]; then
    missing+=("CRM_FERRETDB_BACKEND must be auto, sqlite or postgresql, not '$FERRETDB_BACKEND'")
  fi
  if [ "$MONGO_KIND" = ferretdb ] && [ ! -x "$FERRETDB_BIN" ]; then
    command -v go > /dev/null ||
      missing+=("go (one-time build of FerretDB; or install mongod, or set MONGO_URL)")
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    printf '\033[31m[crm] error:\033[0m missing prerequisites:\n' >&2
    printf '    - %s\n' "${missing[@]}" >&2
    exit 1
  fi
}

check_distinct_ports() {
  local all=("$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KEYCLOAK_PORT" "$KEYCLOAK_MANAGEMENT_PORT")
  [ "$MONGO_KIND" = external ] || all+=("$MONGO_PORT")
  local dup
  dup="$(printf '%s\n' "${all[@]}" | sort | uniq -d | head -n 1)"
  [ -z "$dup" ] || die "port $dup is configured for two servers; check the *_PORT variables"
}

# --- one-time downloads and builds (cached in $CRM_CACHE_DIR; temp + rename, so never half-done) -

fetch_kafka() {
  [ -d "$KAFKA_LIBS" ] && return 0
  crm_log "kafka: resolving Kafka $KAFKA_VERSION from Maven Central (one-time)"
  mkdir -p "${KAFKA_LIBS%/*}"
  local tmp
  tmp="$(mktemp -d "$KAFKA_LIBS.tmp.XXXXXX")"
  if ! mvn_locked -f "$INFRA_DIR/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$tmp" \
    >> "$LOG_DIR/kafka.log" 2>&1; then
    rm -rf "$tmp"
    fail_with_log kafka "download failed"
  fi
  mv -T "$tmp" "$KAFKA_LIBS" 2> /dev/null || rm -rf "$tmp" # a parallel run got there first
}

fetch_keycloak() {
  [ -x "$KEYCLOAK_HOME/bin/kc.sh" ] && return 0
  local tmp
  mkdir -p "${KEYCLOAK_HOME%/*}"
  if [ ! -f "$KEYCLOAK_ZIP" ]; then
    crm_log "keycloak: downloading Keycloak $KEYCLOAK_VERSION from Maven Central (one-time)"
    tmp="$(mktemp -d "$KEYCLOAK_ZIP.tmp.XXXXXX")"
    if ! mvn_locked -f "$INFRA_DIR/keycloak/pom.xml" dependency:copy \
      -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" -DoutputDirectory="$tmp" \
      >> "$LOG_DIR/keycloak.log" 2>&1; then
      rm -rf "$tmp"
      fail_with_log keycloak "download failed"
    fi
    mv -f "$tmp/${KEYCLOAK_ZIP##*/}" "$KEYCLOAK_ZIP"
    rm -rf "$tmp"
  fi
  crm_log "keycloak: unpacking ${KEYCLOAK_ZIP##*/}"
  tmp="$(mktemp -d "$KEYCLOAK_HOME.tmp.XXXXXX")"
  if ! unzip -q "$KEYCLOAK_ZIP" -d "$tmp" >> "$LOG_DIR/keycloak.log" 2>&1; then
    rm -rf "$tmp" "$KEYCLOAK_ZIP" # most likely a damaged zip: download again next time
    fail_with_log keycloak "unzip failed"
  fi
  mv -T "$tmp/keycloak-$KEYCLOAK_VERSION" "$KEYCLOAK_HOME" 2> /dev/null || true
  rm -rf "$tmp"
}

build_ferretdb() {
  [ -x "$FERRETDB_BIN" ] && return 0
  crm_log "ferretdb: building FerretDB $FERRETDB_VERSION with Go (one-time, a minute or two)"
  mkdir -p "${FERRETDB_BIN%/*}"
  local tmp="$FERRETDB_BIN.tmp.$$"
  # -buildvcs=false: the module sits inside this git repo; VCS stamping is useless and can fail.
  if ! (cd "$INFRA_DIR/ferretdb" && GOFLAGS="-mod=mod -buildvcs=false" go build -o "$tmp" .) \
    >> "$LOG_DIR/ferretdb.log" 2>&1; then
    rm -f "$tmp"
    fail_with_log ferretdb "build failed"
  fi
  mv -f "$tmp" "$FERRETDB_BIN"
}

# --- servers: each ensure_* runs in its own background subshell --------------------------------

# Records one line of the final summary.
result() { printf '%-9s %6ss  %s\n' "$1" "$(secs_since "$2")" "$3" > "$RESULTS/$1"; }

# A server of ours is already running: keep it, waiting if it is still starting up.
adopt() { # server pid timeout t0 check...
  local server="$1" pid="$2" timeout="$3" t0="$4"
  shift 4
  if ! "$@"; then
    crm_log "$server: pid $pid is running but not ready yet; waiting"
    wait_healthy "$server" "$timeout" "$@"
  fi
  result "$server" "$t0" "already running (pid $pid)"
}

kafka_ready() { current_log kafka | grep 'Kafka Server started' > /dev/null && port_open "$KAFKA_PORT"; }

ensure_kafka() {
  local t0 pid dir="$DATA_DIR/kafka" heap ports="$KAFKA_PORT $KAFKA_CONTROLLER_PORT"
  t0="$(now_ms)"
  if pid="$(running_pid kafka "$ports")"; then
    adopt kafka "$pid" "$KAFKA_TIMEOUT" "$t0" kafka_ready
    return
  fi
  clean_stale_pid kafka
  require_free_ports kafka KAFKA_PORT KAFKA_CONTROLLER_PORT
  log_marker kafka
  fetch_kafka
  mkdir -p "$dir/kraft"
  # The repo's properties use the default ports; placeholders make swapped ports safe.
  sed -e 's/127\.0\.0\.1:9092/@BROKER@/g' -e 's/127\.0\.0\.1:9093/@CONTROLLER@/g' \
    -e "s/@BROKER@/127.0.0.1:$KAFKA_PORT/g" -e "s/@CONTROLLER@/127.0.0.1:$KAFKA_CONTROLLER_PORT/g" \
    -e '/^log\.dirs=/d' "$INFRA_DIR/kafka/server.properties" > "$dir/server.properties"
  echo "log.dirs=$dir/kraft" >> "$dir/server.properties"
  local java_opts=("-Dlog4j2.configurationFile=$INFRA_DIR/kafka/log4j2.yaml" -cp "$KAFKA_LIBS/*")
  if [ ! -f "$dir/kraft/meta.properties" ]; then
    if [ ! -s "$dir/cluster-id" ]; then # once per data dir: 16 random bytes, base64url (may start with "-": passed as --cluster-id=…)
      head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22 > "$dir/cluster-id.tmp"
      mv -f "$dir/cluster-id.tmp" "$dir/cluster-id"
    fi
    crm_log "kafka: formatting $dir/kraft (cluster id $(cat "$dir/cluster-id"))"
    "$JAVA" "${java_opts[@]}" kafka.tools.StorageTool format --cluster-id="$(cat "$dir/cluster-id")" \
      -c "$dir/server.properties" --standalone >> "$LOG_DIR/kafka.log" 2>&1 ||
      fail_with_log kafka "storage format failed"
  fi
  read -ra heap <<< "${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
  launch kafka "$ports" "$JAVA" "${heap[@]}" "${java_opts[@]}" kafka.Kafka "$dir/server.properties"
  wait_healthy kafka "$KAFKA_TIMEOUT" kafka_ready
  result kafka "$t0" "started (pid $(cat "$(pid_file kafka)"))"
}

http_200() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1")" = 200 ]; }
keycloak_ready() {
  http_200 "http://127.0.0.1:$KEYCLOAK_MANAGEMENT_PORT/health/ready" &&
    http_200 "http://127.0.0.1:$KEYCLOAK_PORT/realms/$KEYCLOAK_REALM/.well-known/openid-configuration"
}

# Bootstrap admin (master realm) password: from the environment, else generated once and kept.
keycloak_admin_password() {
  local file="$CRM_STATE_DIR/keycloak-admin-password"
  if [ -n "${KC_BOOTSTRAP_ADMIN_PASSWORD:-}" ]; then
    echo "$KC_BOOTSTRAP_ADMIN_PASSWORD"
    return
  fi
  if [ ! -s "$file" ]; then
    (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' 'xy' > "$file.tmp" && mv -f "$file.tmp" "$file")
  fi
  chmod 600 "$file"
  cat "$file"
}

ensure_keycloak() {
  local t0 pid dir="$DATA_DIR/keycloak" sha ports="$KEYCLOAK_PORT $KEYCLOAK_MANAGEMENT_PORT"
  t0="$(now_ms)"
  # Keycloak skips the import when the realm exists, so the db remembers which realm file it has.
  sha="$(sha256sum "$REALM_FILE" | cut -d' ' -f1)"
  if pid="$(running_pid keycloak "$ports")"; then
    if [ "$sha" = "$(cat "$dir/realm.sha256" 2> /dev/null)" ]; then
      adopt keycloak "$pid" "$KEYCLOAK_TIMEOUT" "$t0" keycloak_ready
      return
    fi
    crm_log "keycloak: ${REALM_FILE#"$CRM_ROOT"/} changed; restarting to import it again"
    stop_server keycloak
  fi
  clean_stale_pid keycloak
  require_free_ports keycloak KEYCLOAK_PORT KEYCLOAK_MANAGEMENT_PORT
  log_marker keycloak
  fetch_keycloak
  mkdir -p "$dir"
  if [ "$sha" != "$(cat "$dir/realm.sha256" 2> /dev/null)" ]; then
    [ -d "$dir/h2" ] && crm_log "keycloak: realm file changed; recreating the Keycloak database"
    rm -rf "$dir/h2"
    echo "$sha" > "$dir/realm.sha256"
  fi
  # --import-realm reads <kc-home>/data/import only.
  mkdir -p "$KEYCLOAK_HOME/data/import"
  cp "$REALM_FILE" "$KEYCLOAK_HOME/data/import/.crm-realm.json.$$"
  mv -f "$KEYCLOAK_HOME/data/import/.crm-realm.json.$$" "$KEYCLOAK_HOME/data/import/crm-realm.json"

  # Exported in this subshell only; not on the command line, where ps would show the password.
  export KC_BOOTSTRAP_ADMIN_USERNAME="$KEYCLOAK_ADMIN_USER"
  KC_BOOTSTRAP_ADMIN_PASSWORD="$(keycloak_admin_password)"
  export KC_BOOTSTRAP_ADMIN_PASSWORD
  export JAVA_OPTS_KC_HEAP="${JAVA_OPTS_KC_HEAP:--Xms128m -Xmx768m}" # read by kc.sh
  # Transaction logs default to <kc-home>/data, shared by every state folder; keep them in ours.
  export JAVA_OPTS_APPEND="${JAVA_OPTS_APPEND:+$JAVA_OPTS_APPEND }-Dquarkus.transaction-manager.object-store.directory=$dir/transaction-logs"
  launch keycloak "$ports" "$KEYCLOAK_HOME/bin/kc.sh" start-dev --http-host=127.0.0.1 --http-port="$KEYCLOAK_PORT" \
    --health-enabled=true --http-management-port="$KEYCLOAK_MANAGEMENT_PORT" --import-realm \
    --db=dev-file --db-url="jdbc:h2:file:$dir/h2/keycloakdb;NON_KEYWORDS=VALUE"
  wait_healthy keycloak "$KEYCLOAK_TIMEOUT" keycloak_ready
  result keycloak "$t0" "started (pid $(cat "$(pid_file keycloak)"))"
}

mongosh_eval() { mongosh --quiet "mongodb://127.0.0.1:$MONGO_PORT/?directConnection=true" --eval "$1" 2>&1; }
mongod_ready() {
  mongo_ping "$MONGO_PORT" || return 1
  ! command -v mongosh > /dev/null || [ "$(mongosh_eval 'db.hello().isWritablePrimary')" = true ]
}

ensure_mongod() {
  local t0 pid dir="$DATA_DIR/mongod" args ports="$MONGO_PORT"
  t0="$(now_ms)"
  if pid="$(running_pid mongod "$ports")"; then
    adopt mongod "$pid" "$MONGO_TIMEOUT" "$t0" mongod_ready
    return
  fi
  clean_stale_pid mongod
  require_free_ports mongod MONGO_PORT
  log_marker mongod
  mkdir -p "$dir"
  args=(--bind_ip 127.0.0.1 --port "$MONGO_PORT" --dbpath "$dir")
  # Transactions and change streams need a replica set, which can only be initiated with mongosh.
  command -v mongosh > /dev/null && args+=(--replSet rs0)
  launch mongod "$ports" mongod "${args[@]}"
  wait_healthy mongod "$MONGO_TIMEOUT" mongo_ping "$MONGO_PORT"
  if command -v mongosh > /dev/null; then
    mongosh_eval "try { rs.status().ok } catch (e) {
      rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: '127.0.0.1:$MONGO_PORT' }] }).ok }" \
      >> "$LOG_DIR/mongod.log"
    wait_healthy mongod "$MONGO_TIMEOUT" mongod_ready
  else
    crm_log "mongod: mongosh not found, running without a replica set (no transactions)"
  fi
  result mongod "$t0" "started (pid $(cat "$(pid_file mongod)"))"
}

ferretdb_ready() { mongo_ping "$MONGO_PORT"; }
postgres_ready() { "$POSTGRES_BIN/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres; }

# PostgreSQL for FerretDB's postgresql backend: a cluster in the state folder, trust auth on
# 127.0.0.1 only (development data). Run as the 'postgres' user when we are root (it refuses root);
# setpriv execs, so the PID file holds the postmaster's own PID.
ensure_postgres() {
  local pid dir="$DATA_DIR/postgres" ports="$POSTGRES_PORT" as=()
  if pid="$(running_pid postgres "$ports")"; then
    wait_healthy postgres "$MONGO_TIMEOUT" postgres_ready
    return
  fi
  clean_stale_pid postgres
  require_free_ports postgres POSTGRES_PORT
  log_marker postgres
  [ "$(id -u)" = 0 ] && as=(setpriv --reuid=postgres --regid=postgres --init-groups --inh-caps=-all)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    crm_log "postgres: creating a cluster in $dir"
    (cd "$dir" && "${as[@]}" "$POSTGRES_BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --no-instructions) \
      >> "$LOG_DIR/postgres.log" 2>&1 || fail_with_log postgres "initdb failed"
  fi
  launch postgres "$ports" "${as[@]}" "$POSTGRES_BIN/postgres" -D "$dir" -p "$POSTGRES_PORT" -k "$dir" \
    -c listen_addresses=127.0.0.1 -c max_connections=300 -c plan_cache_mode=force_custom_plan
  wait_healthy postgres "$MONGO_TIMEOUT" postgres_ready
  "$POSTGRES_BIN/psql" -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'ferretdb'" | grep -q 1 ||
    "$POSTGRES_BIN/psql" -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -qc "CREATE DATABASE ferretdb" >> "$LOG_DIR/postgres.log" 2>&1 ||
    fail_with_log postgres "could not create the ferretdb database"
  "$POSTGRES_BIN/psql" -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -d ferretdb -v ON_ERROR_STOP=1 -qtA \
    -f "$INFRA_DIR/postgres/ferretdb-id-index.sql" >> "$LOG_DIR/postgres.log" 2>&1 ||
    fail_with_log postgres "could not install the _id index trigger (infra/local/postgres/ferretdb-id-index.sql)"
}

ensure_ferretdb() {
  local t0 pid dir="$DATA_DIR/ferretdb" ports="$MONGO_PORT $FERRETDB_BACKEND" backend=()
  t0="$(now_ms)"
  if [ "$FERRETDB_BACKEND" = postgresql ]; then
    ensure_postgres
    # FerretDB's own pool default is 50 PostgreSQL connections; a burst of more concurrent requests than
    # that (a read model's batch) wedged it for good: every connection idle, every request waiting.
    # PostgreSQL here allows 300.
    backend=(-postgresql-url "postgres://postgres@127.0.0.1:$POSTGRES_PORT/ferretdb?pool_max_conns=200")
  fi
  if pid="$(running_pid ferretdb "$ports")"; then
    adopt ferretdb "$pid" "$MONGO_TIMEOUT" "$t0" ferretdb_ready
    return
  fi
  clean_stale_pid ferretdb
  require_free_ports ferretdb MONGO_PORT
  log_marker ferretdb
  build_ferretdb
  mkdir -p "$dir"
  launch ferretdb "$ports" "$FERRETDB_BIN" -listen-addr "127.0.0.1:$MONGO_PORT" -data-dir "$dir" -log-level warn "${backend[@]}"
  wait_healthy ferretdb "$MONGO_TIMEOUT" ferretdb_ready
  result ferretdb "$t0" "started (pid $(cat "$(pid_file ferretdb)"), $FERRETDB_BACKEND backend)"
}

ensure_external_mongo() {
  local t0 hostport
  t0="$(now_ms)"
  # Best effort: warn when the first host of a plain mongodb:// URL does not answer.
  hostport="$(echo "$MONGO_URL" | sed -n 's#^mongodb://\([^@/]*@\)\{0,1\}\([^,/?]*\).*#\2#p')"
  if [[ "$hostport" == *:* ]] && ! port_open "${hostport%:*}" "${hostport##*:}"; then
    crm_log "warning: MONGO_URL host $hostport does not accept connections"
  fi
  result mongo "$t0" "external MONGO_URL, nothing started"
}

# --- main ----------------------------------------------------------------------------------------

check_prerequisites
check_distinct_ports
RESULTS="$(mktemp -d)"
declare -A jobs=()
trap 'rm -rf "$RESULTS"' EXIT
# Ctrl-C: stop waiting (the servers themselves keep running; pnpm infra:down stops them).
trap 'kill "${jobs[@]}" 2> /dev/null; exit 130' INT TERM

t_all="$(now_ms)"
case "$MONGO_KIND" in
  external) mongo_job=ensure_external_mongo ;;
  *) mongo_job="ensure_$MONGO_KIND" ;;
esac
crm_log "starting Kafka, Keycloak and MongoDB ($MONGO_KIND) in $CRM_STATE_DIR"
ensure_keycloak & # slowest first
jobs[keycloak]=$!
ensure_kafka &
jobs[kafka]=$!
"$mongo_job" &
jobs[mongo]=$!

failed=()
for server in kafka keycloak mongo; do
  wait "${jobs[$server]}" || failed+=("$server")
done

if compgen -G "$RESULTS/*" > /dev/null; then
  crm_log "took (seconds):"
  cat "$RESULTS"/* | sed 's/^/    /' >&2
fi
if [ ${#failed[@]} -gt 0 ]; then
  die "not ready: ${failed[*]} (logs in $LOG_DIR; servers that did start keep running, pnpm infra:down stops them)"
fi

case "$MONGO_KIND" in
  external) mongo_url="$MONGO_URL" ;;
  *) mongo_url="mongodb://127.0.0.1:$MONGO_PORT" ;;
esac
{
  echo "MONGO_URL=$mongo_url"
  echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
  echo "KEYCLOAK_URL=http://127.0.0.1:$KEYCLOAK_PORT"
  echo "KEYCLOAK_REALM=$KEYCLOAK_REALM"
  echo "CRM_MONGO_KIND=$MONGO_KIND"
} > "$ENV_FILE.tmp"
mv -f "$ENV_FILE.tmp" "$ENV_FILE"

password_from="$CRM_STATE_DIR/keycloak-admin-password"
[ -n "${KC_BOOTSTRAP_ADMIN_PASSWORD:-}" ] && password_from="\$KC_BOOTSTRAP_ADMIN_PASSWORD"
crm_log "all ready in $(secs_since "$t_all")s. Keycloak admin: http://127.0.0.1:$KEYCLOAK_PORT/admin," \
  "user $KEYCLOAK_ADMIN_USER, password in $password_from"
crm_log "wrote $ENV_FILE:"
sed 's/^/    /' "$ENV_FILE"
