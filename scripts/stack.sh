#!/usr/bin/env bash
# Local development stack without Docker: MariaDB/MySQL + Redis (used when
# already running, started when installed locally) and a single-node Kafka 3.9
# in KRaft mode (broker + controller) run from jars fetched from Maven Central.
#
#   bash scripts/stack.sh up       start what is missing, then provision (idempotent)
#   bash scripts/stack.sh down     stop what this script started
#   bash scripts/stack.sh status   one line per service
#   bash scripts/stack.sh reset    down, then wipe Kafka's data (keeps the jar cache)
#
# Kafka alone (MariaDB and Redis untouched, nothing provisioned), for a second,
# separate broker that fault tests and the soak bench start, kill and restart
# (set STACK_DIR, KAFKA_PORT and KAFKA_CONTROLLER_PORT):
#   bash scripts/stack.sh kafka-up       start the broker of $STACK_DIR if it is not running (idempotent)
#   bash scripts/stack.sh kafka-down     stop it (SIGTERM, then SIGKILL after 30 s)
#   bash scripts/stack.sh kafka-kill     SIGKILL it (a crash: the next kafka-up recovers its logs)
#   bash scripts/stack.sh kafka-status   one line, exit code 0 when it answers
#
# Environment:
#   DATABASE_URL            default mysql://root@127.0.0.1:3306/rt_analytics
#   REDIS_URL               default redis://127.0.0.1:6379
#   KAFKA_PORT              default 9092 (PLAINTEXT listener on 127.0.0.1)
#   KAFKA_CONTROLLER_PORT   default 9093 (KRaft controller listener on 127.0.0.1)
#   KAFKA_ADVERTISED_HOST   default 127.0.0.1 (clients bootstrap with localhost:$KAFKA_PORT)
#   KAFKA_HEAP_OPTS         default "-Xms256m -Xmx768m"
#   SKIP_PROVISION=1        do not run dist/scripts/provision.js after `up`
#   STACK_DIR               default <repo>/.stack/kafka: the broker's data, logs, pid file,
#                           config and lock; another directory (with other ports) is another,
#                           separate broker. The jar cache stays in <repo>/.stack/kafka/libs.
#
# Everything Kafka lives under <repo>/.stack/kafka/ (libs, data, logs, pid, config).
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
STACK="$ROOT/.stack"
KDIR="$STACK/kafka"
if [[ -n ${STACK_DIR:-} ]]; then
  mkdir -p "$STACK_DIR"
  KDIR="$(cd -- "$STACK_DIR" && pwd -P)"
fi
# One jar cache for every broker directory: a second broker downloads nothing.
LIBS="$STACK/kafka/libs"
LIBS_MARKER="$LIBS/.complete"
DATA="$KDIR/data"
LOGS="$KDIR/logs"
PIDFILE="$KDIR/kafka.pid"
CONF="$KDIR/server.properties"
STARTED="$STACK/started-by-stack"
POM="$SCRIPT_DIR/kafka/pom.xml"
CONF_TEMPLATE="$SCRIPT_DIR/kafka/server.properties"
LOG4J="$SCRIPT_DIR/kafka/log4j.properties"

KAFKA_VERSIONS=(3.9.1 3.9.0) # first one that Maven can resolve wins
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_ADVERTISED_HOST="${KAFKA_ADVERTISED_HOST:-127.0.0.1}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
KAFKA_WAIT_SECONDS="${KAFKA_WAIT_SECONDS:-90}"
DATABASE_URL="${DATABASE_URL:-mysql://root@127.0.0.1:3306/rt_analytics}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

die() { echo "stack: $*" >&2; exit 1; }
say() { echo "stack: $*"; }

# "scheme://user:pass@host:port/path?query" -> "host port" (default port $2).
parse_url() {
  local rest hostport host port
  rest="${1#*://}"; rest="${rest%%/*}"; rest="${rest%%\?*}"
  hostport="${rest##*@}"
  if [[ $hostport == \[* ]]; then # [ipv6]:port
    host="${hostport#\[}"; host="${host%%]*}"
    port="${hostport#*]}"; port="${port#:}"
  else
    host="${hostport%%:*}"
    port="${hostport#"$host"}"; port="${port#:}"
  fi
  [[ -n $host ]] || host=127.0.0.1
  [[ -n $port ]] || port="$2"
  printf '%s %s\n' "$host" "$port"
}

port_open() { # host port
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

is_local() {
  case "$1" in 127.*|localhost|::1) return 0 ;; *) return 1 ;; esac
}

wait_port() { # host port seconds
  local i
  for ((i = 0; i < $3 * 2; i++)); do
    port_open "$1" "$2" && return 0
    sleep 0.5
  done
  return 1
}

mark_started() { # name pidfile
  mkdir -p "$STACK"
  grep -v "^$1 " "$STARTED" 2>/dev/null >"$STARTED.tmp" || true
  echo "$1 $2" >>"$STARTED.tmp"
  mv "$STARTED.tmp" "$STARTED"
}

started_pidfile() { # name -> pidfile recorded by `up`, if any
  [[ -f $STARTED ]] || return 1
  awk -v n="$1" '$1 == n { print $2; found = 1 } END { exit !found }' "$STARTED"
}

unmark_started() {
  [[ -f $STARTED ]] || return 0
  grep -v "^$1 " "$STARTED" >"$STARTED.tmp" || true
  if [[ -s $STARTED.tmp ]]; then mv "$STARTED.tmp" "$STARTED"; else rm -f "$STARTED.tmp" "$STARTED"; fi
}

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

stop_pid() { # pid seconds -> SIGTERM, wait, SIGKILL
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < $2 * 2; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
}

lock() {
  mkdir -p "$STACK"
  exec 9>"$STACK/.lock"
  flock -w 300 9 || die "another 'stack.sh' is still running (lock $STACK/.lock)"
}

# The kafka-* commands lock only their broker's directory: a separate broker
# (STACK_DIR) starts and stops while `up` or another broker's command runs.
lock_kafka() {
  mkdir -p "$KDIR"
  exec 9>"$KDIR/.lock"
  flock -w 300 9 || die "another 'stack.sh' is still running on $KDIR (lock $KDIR/.lock)"
}

# ---------------------------------------------------------------- MariaDB ---

read -r DB_HOST DB_PORT < <(parse_url "$DATABASE_URL" 3306)
read -r REDIS_HOST REDIS_PORT < <(parse_url "$REDIS_URL" 6379)

ensure_mysql() {
  if port_open "$DB_HOST" "$DB_PORT"; then
    DB_NOTE="already running"; return 0
  fi
  local hint="start it (apt-get install mariadb-server; start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd) or set DATABASE_URL"
  if ! is_local "$DB_HOST" || [[ ! -x /usr/sbin/mariadbd ]]; then
    die "MariaDB/MySQL is not running on $DB_HOST:$DB_PORT: $hint"
  fi
  [[ $(id -u) -eq 0 ]] || die "MariaDB is not running on $DB_HOST:$DB_PORT and starting it needs root: sudo start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"
  local args=(--port="$DB_PORT")
  if id mysql >/dev/null 2>&1; then
    install -d -o mysql -g mysql -m 755 /run/mysqld
    args+=(--user=mysql)
  fi
  mkdir -p "$STACK"
  start-stop-daemon --start --oknodo --background --make-pidfile --pidfile "$STACK/mariadb.pid" \
    --output "$STACK/mariadb.log" --exec /usr/sbin/mariadbd -- "${args[@]}" >/dev/null 9>&-
  mark_started mariadb "$STACK/mariadb.pid"
  wait_port "$DB_HOST" "$DB_PORT" 30 ||
    die "MariaDB did not open $DB_HOST:$DB_PORT within 30 s (see $STACK/mariadb.log): $(tail -n 1 "$STACK/mariadb.log" 2>/dev/null)"
  DB_NOTE="started by stack.sh"
}

# ------------------------------------------------------------------ Redis ---

ensure_redis() {
  if port_open "$REDIS_HOST" "$REDIS_PORT"; then
    REDIS_NOTE="already running"; return 0
  fi
  local hint="start it: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port $REDIS_PORT --save \"\" --appendonly no"
  if ! is_local "$REDIS_HOST"; then die "Redis is not running on $REDIS_HOST:$REDIS_PORT: $hint, or set REDIS_URL"; fi
  command -v redis-server >/dev/null || die "Redis is not running on $REDIS_HOST:$REDIS_PORT and redis-server is not installed (apt-get install redis-server)"
  local dir=/var/lib/redis logfile=/var/log/redis/ci.log
  if ! mkdir -p "$dir" /var/log/redis 2>/dev/null || [[ ! -w $dir || ! -w /var/log/redis ]]; then
    dir="$STACK/redis"; logfile="$STACK/redis.log"; mkdir -p "$dir"
  fi
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$dir" --logfile "$logfile" --pidfile "$STACK/redis.pid" >/dev/null 9>&- ||
    die "redis-server failed to start (see $logfile)"
  mark_started redis "$STACK/redis.pid"
  wait_port "$REDIS_HOST" "$REDIS_PORT" 30 || die "Redis did not open $REDIS_HOST:$REDIS_PORT within 30 s (see $logfile)"
  REDIS_NOTE="started by stack.sh"
}

stop_recorded() { # name label
  local pf pid
  pf="$(started_pidfile "$1")" || return 0
  pid="$(cat "$pf" 2>/dev/null || true)"
  if pid_alive "$pid"; then
    stop_pid "$pid" 60
    say "$2 stopped (pid $pid, it was started by stack.sh)"
  fi
  rm -f "$pf"
  unmark_started "$1"
}

# ------------------------------------------------------------------ Kafka ---

kafka_pid() { # pid of the broker this script started, if alive
  local pid
  [[ -f $PIDFILE ]] || return 1
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  pid_alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

kafka_version() { sed -n 's/^version=//p' "$LIBS_MARKER" 2>/dev/null || true; }

check_java() {
  command -v java >/dev/null || die "java not found: install a JDK 17 (apt-get install openjdk-17-jre-headless)"
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
  [[ -n $v && $v -ge 11 ]] || die "Java 11+ is needed for Kafka 3.9 (found '${v:-unknown}'): install a JDK 17 (apt-get install openjdk-17-jre-headless)"
}

libs_complete() {
  [[ -f $LIBS_MARKER ]] || return 1
  local jar
  while read -r jar; do
    [[ -f $LIBS/$jar ]] || return 1
  done < <(sed -n 's/^jar=//p' "$LIBS_MARKER")
  return 0
}

ensure_libs() {
  libs_complete && return 0
  # Brokers of other directories may be fetching the jars right now: one download at a time.
  mkdir -p "$STACK/kafka"
  exec 8>"$STACK/kafka/.libs.lock"
  flock -w 600 8 || die "another 'stack.sh' is still downloading the Kafka jars (lock $STACK/kafka/.libs.lock)"
  if libs_complete; then exec 8>&-; return 0; fi
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven) to download the Kafka jars"
  local tmp="$LIBS.tmp" v ok=""
  mkdir -p "$STACK/kafka"
  for v in "${KAFKA_VERSIONS[@]}"; do
    say "downloading Kafka $v jars from Maven Central (first run only)..."
    rm -rf "$tmp"
    if mvn -q -B -f "$POM" -Dkafka.version="$v" dependency:copy-dependencies \
      -DoutputDirectory="$tmp" >"$STACK/kafka/mvn.log" 2>&1 && [[ -f $tmp/kafka_2.13-$v.jar ]]; then
      ok="$v"; break
    fi
  done
  [[ -n $ok ]] || { tail -n 15 "$STACK/kafka/mvn.log" >&2; die "could not download the Kafka jars with Maven (full log: $STACK/kafka/mvn.log)"; }
  { echo "version=$ok"; (cd "$tmp" && ls -1 ./*.jar | sed 's|^\./|jar=|'); } >"$tmp/.complete"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  exec 8>&-
}

write_config() {
  mkdir -p "$DATA" "$LOGS"
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@ADVERTISED_HOST@|$KAFKA_ADVERTISED_HOST|g" -e "s|@DATA_DIR@|$DATA|g" \
    "$CONF_TEMPLATE" >"$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
}

java_kafka() { # class args... (runs a Kafka main class with our classpath and logging)
  java -cp "$LIBS/*" -Dlog4j.configuration="file:$LOG4J" -Dkafka.logs.dir="$LOGS" "$@"
}

ensure_storage() {
  [[ -f $DATA/meta.properties ]] && return 0
  local cid
  cid="$(java_kafka kafka.tools.StorageTool random-uuid 2>>"$LOGS/format.log" | tail -n 1)"
  [[ -n $cid ]] || die "could not generate a Kafka cluster id (see $LOGS/format.log)"
  java_kafka kafka.tools.StorageTool format -t "$cid" -c "$CONF" --ignore-formatted >>"$LOGS/format.log" 2>&1 ||
    { tail -n 20 "$LOGS/format.log" >&2; die "formatting Kafka storage failed (see $LOGS/format.log)"; }
}

# Wait until the broker answers Kafka API calls (metadata + describe cluster).
# Uses kafkajs from the repo's node_modules; falls back to a port check.
kafka_ready() { # seconds [pid]
  if ! (cd "$ROOT" && node -e "require.resolve('kafkajs')" >/dev/null 2>&1); then
    say "kafkajs not found in node_modules (run npm ci); only checking that the port is open"
    wait_port 127.0.0.1 "$KAFKA_PORT" "$1"
    return
  fi
  (cd "$ROOT" && BROKER="127.0.0.1:$KAFKA_PORT" WAIT_MS="$(($1 * 1000))" KPID="${2:-0}" \
    node --input-type=commonjs -e '
const { Kafka, logLevel } = require("kafkajs");
const deadline = Date.now() + Number(process.env.WAIT_MS);
const pid = Number(process.env.KPID);
(async () => {
  let last = "no answer";
  while (Date.now() < deadline) {
    if (pid) { try { process.kill(pid, 0); } catch { console.error("the Kafka process exited"); process.exit(2); } }
    const admin = new Kafka({ clientId: "stack-check", brokers: [process.env.BROKER], logLevel: logLevel.NOTHING,
      connectionTimeout: 1000, requestTimeout: 5000, retry: { retries: 0 } }).admin();
    try {
      await admin.connect();
      await admin.listTopics();
      const c = await admin.describeCluster();
      if (c.brokers.length > 0 && c.controller !== null && c.controller !== -1) { await admin.disconnect(); process.exit(0); }
      last = "no controller yet";
    } catch (e) { last = e.message; }
    try { await admin.disconnect(); } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  console.error("no answer from Kafka: " + last);
  process.exit(1);
})();
' 2>&1 | sed 's/^/stack: /' >&2; exit "${PIPESTATUS[0]}")
}

show_kafka_log() {
  echo "---- last 30 lines of $LOGS/server.log ----" >&2
  tail -n 30 "$LOGS/server.log" 2>/dev/null >&2 || true
  if [[ -s $LOGS/kafka.out ]]; then
    echo "---- last 10 lines of $LOGS/kafka.out ----" >&2
    tail -n 10 "$LOGS/kafka.out" >&2
  fi
}

ensure_kafka() {
  local pid t0=$SECONDS
  if port_open 127.0.0.1 "$KAFKA_PORT"; then
    if pid="$(kafka_pid)"; then KAFKA_NOTE="pid $pid"; else KAFKA_NOTE="not started by stack.sh"; fi
    kafka_ready 30 || die "something listens on 127.0.0.1:$KAFKA_PORT but does not answer as a Kafka broker"
    KAFKA_NOTE="already running, $KAFKA_NOTE"
    return 0
  fi
  if pid="$(kafka_pid)"; then
    local running_port
    running_port="$(sed -n 's|^listeners=PLAINTEXT://[^:]*:\([0-9]*\).*|\1|p' "$CONF" 2>/dev/null || true)"
    [[ $running_port == "$KAFKA_PORT" ]] ||
      die "the Kafka started by stack.sh (pid $pid) uses port ${running_port:-?}, not $KAFKA_PORT: run 'bash scripts/stack.sh down' first"
    # Our broker is alive but not listening yet (still starting): just wait for it.
    say "Kafka (pid $pid) is still starting, waiting..."
  else
    rm -f "$PIDFILE"
    port_open 127.0.0.1 "$KAFKA_CONTROLLER_PORT" &&
      die "port 127.0.0.1:$KAFKA_CONTROLLER_PORT (KRaft controller) is in use by another process: set KAFKA_CONTROLLER_PORT"
    check_java
    ensure_libs
    write_config
    ensure_storage
    : >"$LOGS/kafka.out"
    # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags
    setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
      java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$LOG4J" -Dkafka.logs.dir="$LOGS" \
      -cp "$LIBS/*" kafka.Kafka "$CONF" >>"$LOGS/kafka.out" 2>&1 </dev/null 9>&- &
    local i
    for ((i = 0; i < 50; i++)); do [[ -s $PIDFILE ]] && break; sleep 0.1; done
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  fi
  if ! kafka_ready "$KAFKA_WAIT_SECONDS" "$pid"; then
    show_kafka_log
    rm -f "$PIDFILE"
    pid_alive "$pid" || die "Kafka exited during startup (logs: $LOGS)"
    stop_pid "$pid" 10
    die "Kafka did not become ready on 127.0.0.1:$KAFKA_PORT within ${KAFKA_WAIT_SECONDS}s (stopped it; logs: $LOGS)"
  fi
  KAFKA_NOTE="started in $((SECONDS - t0))s, pid $pid"
}

stop_kafka() {
  local pid
  if pid="$(kafka_pid)"; then
    stop_pid "$pid" 30
    rm -f "$PIDFILE"
    say "kafka stopped (pid $pid)"
  elif [[ -f $PIDFILE ]]; then
    rm -f "$PIDFILE"
    say "kafka was not running (removed a stale pid file)"
  elif port_open 127.0.0.1 "$KAFKA_PORT"; then
    say "kafka on 127.0.0.1:$KAFKA_PORT was not started by stack.sh: left running"
  else
    say "kafka is not running"
  fi
}

kill_kafka() { # SIGKILL, as a crash would: no clean shutdown, the next start recovers the logs
  local pid i
  if pid="$(kafka_pid)"; then
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do pid_alive "$pid" || break; sleep 0.1; done
    pid_alive "$pid" && die "kafka (pid $pid) still alive after SIGKILL"
    rm -f "$PIDFILE"
    say "kafka killed (SIGKILL, pid $pid, $KDIR)"
  else
    rm -f "$PIDFILE"
    say "kafka of $KDIR is not running"
  fi
}

# --------------------------------------------------------------- commands ---

provision() {
  if [[ ${SKIP_PROVISION:-0} == 1 ]]; then return 0; fi
  if [[ ! -f $ROOT/dist/scripts/provision.js ]]; then
    say "dist/scripts/provision.js missing: running npm run build"
    (cd "$ROOT" && npm run build --silent) || die "npm run build failed"
    [[ -f $ROOT/dist/scripts/provision.js ]] || die "dist/scripts/provision.js still missing after npm run build"
  fi
  (cd "$ROOT" && DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" \
    KAFKA_BROKERS="${KAFKA_BROKERS:-localhost:$KAFKA_PORT}" node dist/scripts/provision.js) ||
    die "provisioning failed (node dist/scripts/provision.js)"
}

cmd_up() {
  lock
  DB_NOTE="" REDIS_NOTE="" KAFKA_NOTE=""
  ensure_mysql
  ensure_redis
  ensure_kafka
  provision
  printf '%-8s %-22s %s\n' mysql "$DB_HOST:$DB_PORT" "up ($DB_NOTE)" \
    redis "$REDIS_HOST:$REDIS_PORT" "up ($REDIS_NOTE)" \
    kafka "localhost:$KAFKA_PORT" "up (Kafka $(kafka_version) KRaft, $KAFKA_NOTE; logs .stack/kafka/logs)"
}

cmd_down() {
  lock
  stop_kafka
  stop_recorded redis redis
  stop_recorded mariadb mariadb
}

cmd_status() {
  local s pid rc=0
  if port_open "$DB_HOST" "$DB_PORT"; then s=up; else s=down; rc=1; fi
  printf '%-8s %-22s %s\n' mysql "$DB_HOST:$DB_PORT" "$s"
  if port_open "$REDIS_HOST" "$REDIS_PORT"; then s=up; else s=down; rc=1; fi
  printf '%-8s %-22s %s\n' redis "$REDIS_HOST:$REDIS_PORT" "$s"
  if port_open 127.0.0.1 "$KAFKA_PORT"; then
    if pid="$(kafka_pid)"; then s="up (pid $pid, Kafka $(kafka_version))"; else s="up (not started by stack.sh)"; fi
  elif pid="$(kafka_pid)"; then
    s="starting (pid $pid)"; rc=1
  else
    s=down; rc=1
  fi
  printf '%-8s %-22s %s\n' kafka "localhost:$KAFKA_PORT" "$s"
  return "$rc"
}

cmd_kafka_up() {
  lock_kafka
  KAFKA_NOTE=""
  ensure_kafka
  printf '%-8s %-22s %s\n' kafka "localhost:$KAFKA_PORT" "up (Kafka $(kafka_version) KRaft, $KAFKA_NOTE; dir $KDIR)"
}

cmd_kafka_status() {
  local pid
  if port_open 127.0.0.1 "$KAFKA_PORT"; then
    if pid="$(kafka_pid)"; then echo "kafka    localhost:$KAFKA_PORT up (pid $pid, dir $KDIR)"; else echo "kafka    localhost:$KAFKA_PORT up (not started from $KDIR)"; fi
    return 0
  fi
  if pid="$(kafka_pid)"; then echo "kafka    localhost:$KAFKA_PORT starting (pid $pid, dir $KDIR)"; else echo "kafka    localhost:$KAFKA_PORT down (dir $KDIR)"; fi
  return 1
}

cmd_reset() {
  cmd_down
  rm -rf "$DATA" "$CONF"
  say "kafka data removed ($DATA); the next 'up' formats a new cluster"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  kafka-up) cmd_kafka_up ;;
  kafka-down) lock_kafka; stop_kafka ;;
  kafka-kill) lock_kafka; kill_kafka ;;
  kafka-status) cmd_kafka_status ;;
  *) echo "usage: bash scripts/stack.sh up|down|status|reset|kafka-up|kafka-down|kafka-kill|kafka-status" >&2; exit 2 ;;
esac
