#!/usr/bin/env bash
# A complete Tilery cluster on this machine's loopback interface, from Debian and PyPI
# parts: the database service (tilery db), redis-server (the job broker), memcached (the
# shared tile cache), two web processes (tilery serve), nginx in front of them and two
# job workers (tilery worker).
#
#   bash scripts/cluster.sh up     [--dir DIR]   start it; prints its address last
#   bash scripts/cluster.sh status [--dir DIR]   each process, its pid, alive or not
#   bash scripts/cluster.sh down   [--dir DIR]   stop what `up` started, and only that
#
# DIR (default ./cluster-data) holds everything: data, logs, the rendered configuration,
# the ports chosen at `up` (cluster.env) and one pid file per process (pids/). Every
# process is started as the leader of its own process group, so `down` stops it and its
# children (nginx's workers) by that group, and nothing else. TILERY_PYTHON names the
# Python with Tilery installed (default .venv/bin/python, made by scripts/setup.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
COMMAND=${1:-}
shift || true
DIR=./cluster-data
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=$2; shift 2 ;;
    --dir=*) DIR=${1#--dir=}; shift ;;
    *) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$COMMAND" in
  up|down|status) ;;
  *) echo "usage: cluster.sh up|down|status [--dir DIR]" >&2; exit 2 ;;
esac
[ "$COMMAND" = up ] && mkdir -p "$DIR"
if [ ! -d "$DIR" ]; then
  echo "cluster.sh: no cluster in $DIR" >&2
  [ "$COMMAND" = down ] && exit 0  # nothing started there, nothing to stop
  exit 1
fi
DIR=$(cd "$DIR" && pwd)
PIDS=$DIR/pids
LOGS=$DIR/logs
# start order; `down` stops them in reverse (the front first, the database last)
NAMES=(db redis memcached web1 web2 worker1 worker2 nginx)
STOP_SECONDS=20  # SIGTERM, then this long before SIGKILL (a worker hands its job back)

alive() {  # alive PID: the process exists and is not a zombie
  [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]
}

start_time() {  # the kernel's start time of PID: tells our process from a reused pid
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

recorded() {  # recorded NAME: the pid `up` wrote for NAME, if that process still runs
  local file=$PIDS/$1.pid pid started
  [ -f "$file" ] || return 1
  read -r pid started <"$file"
  alive "$pid" && [ "$(start_time "$pid")" = "$started" ] && echo "$pid"
}

group_members() {  # the live processes of process group $1
  ps -eo pid=,pgid=,stat= | awk -v g="$1" '$2 == g && $3 !~ /^Z/ {print $1}'
}

stop_group() {  # stop_group NAME: SIGTERM its process group, wait, SIGKILL what is left
  local pid deadline
  pid=$(recorded "$1") || { rm -f "$PIDS/$1.pid"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_SECONDS))
  while [ -n "$(group_members "$pid")" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if [ -n "$(group_members "$pid")" ]; then
    echo "$1 (pid $pid) did not stop within ${STOP_SECONDS} s; killing it" >&2
    kill -KILL -- "-$pid" 2>/dev/null || true
    while [ -n "$(group_members "$pid")" ]; do sleep 0.1; done
  fi
  rm -f "$PIDS/$1.pid"
}

stop_database_child() {  # SecantusDB runs in a session of its own under `tilery db`
  local pid
  pid=$(recorded secantus) || { rm -f "$PIDS/secantus.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null
  while alive "$pid"; do sleep 0.1; done
  rm -f "$PIDS/secantus.pid"
}

down() {
  local i
  for ((i = ${#NAMES[@]} - 1; i >= 0; i--)); do stop_group "${NAMES[$i]}"; done
  stop_database_child
  rm -f "$DIR/cluster.env"
}

status() {
  local name pid file
  printf '%-10s %-8s %s\n' process pid state
  for name in "${NAMES[@]}" secantus; do
    file=$PIDS/$name.pid
    [ -f "$file" ] || continue
    if pid=$(recorded "$name"); then
      printf '%-10s %-8s %s\n' "$name" "$pid" alive
    else
      printf '%-10s %-8s %s\n' "$name" "$(cut -d' ' -f1 "$file")" dead
    fi
  done
  [ -f "$DIR/cluster.env" ] && echo "Tilery cluster at http://127.0.0.1:$(
    . "$DIR/cluster.env"; echo "$NGINX_PORT")/"
  return 0
}

install_missing() {  # nginx, redis-server and memcached from Debian, where missing
  local missing=()
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v memcached >/dev/null 2>&1 || missing+=(memcached)
  bash "$ROOT/scripts/apt_install.sh" ${missing[@]+"${missing[@]}"}
}

launch() {  # launch NAME FUNCTION ARGS...: in a process group of its own, output to its log
  local name=$1 pid
  shift
  # the last run's log stays beside it; readiness is read from this run's alone
  [ -f "$LOGS/$name.log" ] && mv -f "$LOGS/$name.log" "$LOGS/$name.log.1"
  # job control: the background job leads a new process group, whose id is its pid
  set -m
  "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  pid=$!
  set +m
  echo "$pid $(start_time "$pid")" >"$PIDS/$name.pid"
}

fail() {  # fail NAME MESSAGE: show why, stop what started, give up
  echo "cluster.sh: $1 $2; the end of $LOGS/$1.log:" >&2
  tail -n 30 "$LOGS/$1.log" >&2 || true
  down
  exit 1
}

wait_until() {  # wait_until NAME SECONDS TEST...: until TEST passes, while NAME runs
  local name=$1 limit=$2 deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    recorded "$name" >/dev/null || fail "$name" "exited while starting"
    [ $SECONDS -lt $deadline ] || fail "$name" "was not ready within $limit s"
    sleep 0.2
  done
}

answers() { curl -sf -o /dev/null --max-time 2 "$1"; }
listens() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
logged() { grep -qiE "$2" "$LOGS/$1.log"; }

# what each process runs (exec: the job's pid is the command's own)
run_db() { exec "$PY" -m tilery.cli db --data-dir "$DIR/db" --port "$DB_PORT"; }
run_redis() {
  exec redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DIR/redis" \
    --appendonly yes --save '' --daemonize no --protected-mode yes
}
run_memcached() {
  # memcached refuses to run as root unless told which user to be: the current one
  exec memcached -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 256 -u "$(id -un)"
}
run_web() {  # run_web NAME PORT
  TILERY_ACCESS_LOG=$LOGS/$1-access.log exec "$PY" -m tilery.cli serve --host 127.0.0.1 \
    --port "$2" --data-dir "$DIR/data" --mongo-uri "$MONGO_URI" --config "$DIR/tilery.toml"
}
run_worker() {
  exec "$PY" -m tilery.cli worker --mongo-uri "$MONGO_URI" \
    --broker-url "$BROKER_URL" --config "$DIR/tilery.toml"
}
run_nginx() { exec "$NGINX" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$LOGS/nginx-error.log"; }

render_nginx() {
  local upstreams user=''
  mkdir -p "$DIR/nginx/tmp"
  upstreams="server 127.0.0.1:$WEB1_PORT max_fails=1 fail_timeout=5s; "
  upstreams+="server 127.0.0.1:$WEB2_PORT max_fails=1 fail_timeout=5s;"
  # as root, nginx's workers would switch to "nobody", who cannot write DIR
  [ "$(id -u)" = 0 ] && user="user $(id -un) $(id -gn);"
  sed -e "s|@UPSTREAM_SERVERS@|$upstreams|" -e "s|@LISTEN@|127.0.0.1:$NGINX_PORT|" \
    "$ROOT/deploy/nginx/tilery.conf.in" >"$DIR/nginx/tilery.conf"
  sed -e "s|@USER@|$user|" -e "s|@DIR@|$DIR/nginx|g" -e "s|@LOGS@|$LOGS|g" \
    "$ROOT/deploy/nginx/nginx.conf.in" >"$DIR/nginx/nginx.conf"
}

write_settings() {  # the settings every web process and worker reads
  {
    echo "data_dir = \"$DIR/data\""
    echo 'trusted_proxies = ["127.0.0.1"]  # nginx, for X-Forwarded-For'
    echo
    echo '[plugins.large_image]'
    echo "memcached_url = \"127.0.0.1:$MEMCACHED_PORT\""
    if [ -n "$BROKER_URL" ]; then
      echo
      echo '[plugins.jobs]'
      echo "broker_url = \"$BROKER_URL\""
      # a worker killed mid-job is taken for dead after stale_seconds and its job runs
      # again on another: 10 s here instead of a minute (a heartbeat write every 2 s)
      echo 'heartbeat_seconds = 2.0'
      echo 'stale_seconds = 10.0'
    fi
  } >"$DIR/tilery.toml"
}

up() {
  local name
  for name in "${NAMES[@]}"; do
    if recorded "$name" >/dev/null; then
      echo "cluster.sh: a cluster already runs from $DIR (see: cluster.sh status --dir $DIR)" >&2
      exit 1
    fi
  done
  install_missing
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  if [ -z "${TILERY_PYTHON:-}" ] && [ ! -x "$ROOT/.venv/bin/python" ]; then
    bash "$ROOT/scripts/setup.sh"
  fi
  PY=${TILERY_PYTHON:-$ROOT/.venv/bin/python}
  mkdir -p "$PIDS" "$LOGS" "$DIR/db" "$DIR/data" "$DIR/redis"
  # seven free loopback ports at once (held together while chosen, so all differ)
  read -r DB_PORT REDIS_PORT MEMCACHED_PORT WEB1_PORT WEB2_PORT NGINX_PORT _ < <("$PY" -c '
import socket
socks = [socket.socket() for _ in range(7)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
  MONGO_URI="mongodb://127.0.0.1:$DB_PORT/tilery?directConnection=true"
  # workers only when this Tilery has them; without, each web process runs its own jobs
  BROKER_URL=''
  WORKERS=0
  if "$PY" -m tilery.cli worker --help >/dev/null 2>&1; then
    BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
    WORKERS=1
  fi
  cat >"$DIR/cluster.env" <<EOF
DB_PORT=$DB_PORT
REDIS_PORT=$REDIS_PORT
MEMCACHED_PORT=$MEMCACHED_PORT
WEB1_PORT=$WEB1_PORT
WEB2_PORT=$WEB2_PORT
NGINX_PORT=$NGINX_PORT
MONGO_URI='$MONGO_URI'
BROKER_URL='$BROKER_URL'
EOF
  write_settings
  render_nginx
  export PY DIR DB_PORT REDIS_PORT MEMCACHED_PORT MONGO_URI BROKER_URL

  # any step that fails from here on stops what was started
  trap 'echo "cluster.sh: up failed; stopping what it started" >&2; down' ERR
  echo "Starting the database (tilery db) on port $DB_PORT ..."
  launch db run_db
  wait_until db 300 logged db 'mongodb://'
  # its SecantusDB child, recorded too: it lives in a session of its own
  local child
  child=$(grep -o 'SecantusDB (pid [0-9]*' "$LOGS/db.log" | grep -o '[0-9]*$')
  echo "$child $(start_time "$child")" >"$PIDS/secantus.pid"
  echo "Starting redis-server on $REDIS_PORT and memcached on $MEMCACHED_PORT ..."
  launch redis run_redis
  launch memcached run_memcached
  wait_until redis 30 listens "$REDIS_PORT"
  wait_until memcached 30 listens "$MEMCACHED_PORT"
  echo "Starting two web processes on $WEB1_PORT and $WEB2_PORT ..."
  launch web1 run_web web1 "$WEB1_PORT"
  launch web2 run_web web2 "$WEB2_PORT"
  wait_until web1 300 answers "http://127.0.0.1:$WEB1_PORT/api/v1/system/health/ready"
  wait_until web2 300 answers "http://127.0.0.1:$WEB2_PORT/api/v1/system/health/ready"
  if [ $WORKERS = 1 ]; then
    echo "Starting two job workers ..."
    launch worker1 run_worker
    launch worker2 run_worker
    wait_until worker1 300 logged worker1 'worker ready'
    wait_until worker2 300 logged worker2 'worker ready'
  else
    echo "This Tilery has no \`tilery worker\`: each web process runs its own jobs."
  fi
  echo "Starting nginx on $NGINX_PORT ..."
  launch nginx run_nginx
  wait_until nginx 30 answers "http://127.0.0.1:$NGINX_PORT/api/v1/system/health/ready"
  trap - ERR
  echo "Tilery cluster at http://127.0.0.1:$NGINX_PORT/"
}

case "$COMMAND" in
  up) up ;;
  down) down ;;
  status) status ;;
esac
