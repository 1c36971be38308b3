#!/usr/bin/env bash
# Shared by infra/local/up.sh and down.sh (sourced, not run). Local servers for development and
# tests without Docker: Kafka (KRaft), Keycloak (dev mode) and MongoDB (mongod or FerretDB).
#
# Everything a run creates lives in ONE folder, $CRM_STATE_DIR (default <repo>/.local):
#   logs/<server>.log  pids/<server>.pid  data/<server>/  infra.env  keycloak-admin-password
# Downloads and builds are cached outside the repo in $CRM_CACHE_DIR, keyed by version.
# shellcheck source-path=SCRIPTDIR disable=SC2034 # (the variables below are used by up.sh/down.sh)
set -euo pipefail

# shellcheck source=../../scripts/toolchain.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/toolchain.sh"

INFRA_DIR="$CRM_ROOT/infra/local"
mkdir -p "${CRM_STATE_DIR:-$CRM_ROOT/.local}"
# Absolute, because "is this PID ours?" looks for this path in the process's command line.
CRM_STATE_DIR="$(cd "${CRM_STATE_DIR:-$CRM_ROOT/.local}" && pwd)"
export CRM_STATE_DIR
LOG_DIR="$CRM_STATE_DIR/logs"
PID_DIR="$CRM_STATE_DIR/pids"
DATA_DIR="$CRM_STATE_DIR/data"
ENV_FILE="$CRM_STATE_DIR/infra.env"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KEYCLOAK_PORT="${KEYCLOAK_PORT:-8080}"
KEYCLOAK_MANAGEMENT_PORT="${KEYCLOAK_MANAGEMENT_PORT:-9000}"
MONGO_PORT="${MONGO_PORT:-27017}"
KEYCLOAK_REALM=crm
KEYCLOAK_ADMIN_USER=kcadmin

KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$INFRA_DIR/kafka/pom.xml")"
KEYCLOAK_VERSION=26.7.3
FERRETDB_VERSION="$(sed -n 's:^require github.com/FerretDB/FerretDB v\([^ ]*\).*:\1:p' "$INFRA_DIR/ferretdb/go.mod")"

KAFKA_LIBS="$CRM_CACHE_DIR/kafka/$KAFKA_VERSION/libs"
KEYCLOAK_HOME="$CRM_CACHE_DIR/keycloak/keycloak-$KEYCLOAK_VERSION"
# Keyed by the wrapper's source too: a changed main.go (e.g. a new flag) builds a new binary.
FERRETDB_BIN="$CRM_CACHE_DIR/ferretdb/$FERRETDB_VERSION/$(cat "$INFRA_DIR/ferretdb/main.go" "$INFRA_DIR/ferretdb/go.sum" | sha256sum | cut -c1-12)/ferretdb"
# FerretDB's storage: postgresql (a local PostgreSQL server from the machine's packages, started and
# stopped with the rest; see up.sh) or sqlite (files in the state folder). `auto` (the default) takes
# postgresql when the machine can run it: under sustained writes SQLite's write-ahead log grows without
# bound and concurrent writers wait on its lock.
FERRETDB_BACKEND="${CRM_FERRETDB_BACKEND:-auto}"
POSTGRES_PORT="${POSTGRES_PORT:-55432}"
POSTGRES_BIN="${CRM_POSTGRES_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)}"
if [ "$FERRETDB_BACKEND" = auto ]; then
  if [ -x "$POSTGRES_BIN/postgres" ] && [ -x "$POSTGRES_BIN/initdb" ] && { [ "$(id -u)" != 0 ] || id postgres > /dev/null 2>&1; }; then
    FERRETDB_BACKEND=postgresql
  else
    FERRETDB_BACKEND=sqlite
  fi
fi
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

die() { printf '\033[31m[crm] error:\033[0m %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }
# Seconds since a now_ms timestamp, one decimal.
secs_since() { local d=$(($(now_ms) - $1)); printf '%d.%d' $((d / 1000)) $((d % 1000 / 100)); }

port_open() { # [host] port
  local host=127.0.0.1
  [ $# -eq 2 ] && { host="$1"; shift; }
  timeout 2 bash -c "exec 3<>/dev/tcp/$host/$1" 2>/dev/null
}

# "java (pid 123)" for whoever listens on a port, when ss can tell.
port_owner() {
  command -v ss >/dev/null || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null |
    sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1 (pid \2)/p' | head -n 1
}

pid_file() { echo "$PID_DIR/$1.pid"; }

# Zombies count as dead: PID 1 of some sandboxes never reaps them.
alive() { local st; st="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ "$st" != Z* ]]; }
group_alive() { ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'; }

cmdline_of() {
  if [ -r "/proc/$1/cmdline" ]; then tr '\0' ' ' < "/proc/$1/cmdline"; else ps -ww -o args= -p "$1" 2>/dev/null; fi
}

# Prints the PID of server $1 if its PID file points at a live process that is really ours: every
# command we start has a path inside $CRM_STATE_DIR in its arguments, which rules out PID reuse.
our_pid() {
  local file pid
  file="$(pid_file "$1")"
  [ -f "$file" ] || return 1
  pid="$(cat "$file" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  case "$(cmdline_of "$pid")" in *"$CRM_STATE_DIR/"*) echo "$pid" ;; *) return 1 ;; esac
}

clean_stale_pid() {
  local file pid
  file="$(pid_file "$1")"
  if [ -f "$file" ] && ! our_pid "$1" > /dev/null; then
    pid="$(cat "$file" 2> /dev/null)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid"; then
      crm_log "$1: removing stale PID file (pid $pid is now another program's; leaving it alone)"
    else
      crm_log "$1: removing stale PID file (process ${pid:-?} is gone)"
    fi
    rm -f "$file" "${file%.pid}.ports"
  fi
}

# Fails naming the port (and its owner) when a port we need is taken by something that is not ours.
require_free_ports() { # server VAR_NAME...
  local server="$1" var port owner
  shift
  for var in "$@"; do
    port="${!var}"
    if port_open "$port"; then
      owner="$(port_owner "$port")"
      die "$server: port $port is already in use${owner:+ by $owner}, not by a server of ours." \
        "Stop that process, or pick another port with $var=<port>."
    fi
  done
}

# Appends a marker to the server's log, so readiness checks only look at the current run.
log_marker() { printf '=== %s: infra/local/up.sh starts %s\n' "$(date -Is)" "$1" >> "$LOG_DIR/$1.log"; }
current_log() {
  [ -f "$LOG_DIR/$1.log" ] || return 0
  awk '/^=== .*infra\/local\/up.sh starts/ { n = 0 } { line[++n] = $0 } END { for (i = 1; i <= n; i++) print line[i] }' "$LOG_DIR/$1.log"
}

# Prints the PID of server $1 if it runs with the ports given in $2. One of ours running on other
# ports (the *_PORT variables changed) is stopped, so that the caller starts it again.
running_pid() { # server "ports"
  local pid
  pid="$(our_pid "$1")" || return 1
  if [ "$(cat "$PID_DIR/$1.ports" 2> /dev/null)" != "$2" ]; then
    crm_log "$1: running on other ports ($(cat "$PID_DIR/$1.ports" 2> /dev/null)); restarting on $2"
    stop_server "$1"
    return 1
  fi
  echo "$pid"
}

# Starts a server detached (own session, so Ctrl-C on up.sh or closing the terminal does not stop
# it) with output appended to its log. The lock fd 9 is closed so servers do not hold up.sh's lock.
launch() { # server "ports" command...
  local server="$1"
  echo "$2" > "$PID_DIR/$server.ports"
  shift 2
  local setsid=()
  command -v setsid >/dev/null && setsid=(setsid)
  (cd "$CRM_STATE_DIR" && exec "${setsid[@]}" "$@" >> "$LOG_DIR/$server.log" 2>&1 < /dev/null 9>&-) &
  echo $! > "$(pid_file "$server")"
}

# Waits until `check` succeeds; fails early when the process died, or after the timeout, showing
# the tail of the server's log.
wait_healthy() { # server timeout-seconds check-command...
  local server="$1" timeout="$2" t0 pid
  shift 2
  t0="$(date +%s)"
  while ! "$@"; do
    if ! pid="$(our_pid "$server")"; then
      fail_with_log "$server" "exited before becoming ready"
    fi
    if [ $(($(date +%s) - t0)) -ge "$timeout" ]; then
      fail_with_log "$server" "not ready after ${timeout}s (pid $pid still running; see its log)"
    fi
    sleep 0.5
  done
}

fail_with_log() {
  printf '\033[31m[crm] %s %s.\033[0m Last lines of %s:\n' "$1" "$2" "$LOG_DIR/$1.log" >&2
  current_log "$1" | tail -n 40 | sed 's/^/    /' >&2
  exit 1
}

still_running() { if [ "${1#-}" != "$1" ]; then group_alive "${1#-}"; else alive "$1"; fi; }

# Stops server $1 by its PID file (never by name): SIGTERM, up to 20 s, then SIGKILL.
stop_server() {
  local server="$1" file pid target t0
  file="$(pid_file "$server")"
  [ -f "$file" ] || return 0
  if ! pid="$(our_pid "$server")"; then
    crm_log "$server: not running (removing stale PID file)"
    rm -f "$file" "${file%.pid}.ports"
    return 0
  fi
  # Servers are session leaders (see launch): signal the whole group, as kc.sh runs java as a child.
  target="$pid"
  [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ] && target="-$pid"
  t0="$(now_ms)"
  kill -TERM -- "$target" 2>/dev/null || true
  while still_running "$target" && [ $(($(now_ms) - t0)) -lt 20000 ]; do sleep 0.2; done
  if still_running "$target"; then
    crm_log "$server: still running after 20 s, sending SIGKILL"
    kill -KILL -- "$target" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$file" "${file%.pid}.ports"
  crm_log "$server: stopped (pid $pid) in $(secs_since "$t0")s"
}

# Runs a Maven command under a cache-wide lock: parallel runs on a fresh machine would otherwise
# download the same plugins into ~/.m2 at the same time.
mvn_locked() {
  mkdir -p "$CRM_CACHE_DIR"
  if command -v flock >/dev/null; then
    flock "$CRM_CACHE_DIR/.maven.lock" mvn -q -B -Dstyle.color=never "$@"
  else
    mvn -q -B -Dstyle.color=never "$@"
  fi
}

# MongoDB wire-protocol round trip (OP_MSG {ping: 1}) with plain python3, no driver needed.
# Without python3 it falls back to "the port accepts connections".
mongo_ping() { # port
  port_open "$1" || return 1
  command -v python3 >/dev/null || return 0
  python3 - "$1" <<'PY'
import socket, struct, sys

def cstr(s):
    return s.encode() + b"\0"

body = b"\x10" + cstr("ping") + struct.pack("<i", 1) + b"\x02" + cstr("$db") + struct.pack("<i", 6) + cstr("admin")
doc = struct.pack("<i", len(body) + 5) + body + b"\0"
msg = struct.pack("<i", 0) + b"\0" + doc  # flagBits, section kind 0 (body)
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
    s.sendall(struct.pack("<iiii", 16 + len(msg), 1, 0, 2013) + msg)

    def recv(n):
        b = b""
        while len(b) < n:
            chunk = s.recv(n - len(b))
            if not chunk:
                sys.exit(1)
            b += chunk
        return b

    length, _, _, opcode = struct.unpack("<iiii", recv(16))
    reply = recv(length - 16)
except OSError:
    sys.exit(1)
i = reply.find(b"\x01ok\x00")  # ok as a double
if i >= 0:
    sys.exit(0 if opcode == 2013 and struct.unpack("<d", reply[i + 4:i + 12])[0] == 1.0 else 1)
i = reply.find(b"\x10ok\x00")  # ok as an int32
sys.exit(0 if opcode == 2013 and i >= 0 and struct.unpack("<i", reply[i + 4:i + 8])[0] == 1 else 1)
PY
}
