#!/usr/bin/env bash
# Local trials of many nodes (issue 8, docs/DEPLOY.md): starts PostgreSQL and nats-server on
# loopback from the Debian packages (no systemd, no docker), then three hongyan-server nodes
# sharing both and one media dir, all in the foreground, and prints how to reach each node.
# Ctrl+C stops everything. Data persists in $HONGYAN_DATA_HOME/cluster (pg/, node1..3/, media/).
# Ports: HONGYAN_CLUSTER_PG_PORT (default 55432), HONGYAN_CLUSTER_NATS_PORT (default 54222),
# node K (1..3) on HTTP HONGYAN_CLUSTER_HTTP_PORT+K-1 (default 3001..3003) and TCP
# HONGYAN_CLUSTER_TCP_PORT+K-1 (default 8911..8913).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

pg_port="${HONGYAN_CLUSTER_PG_PORT:-55432}"
nats_port="${HONGYAN_CLUSTER_NATS_PORT:-54222}"
http_base="${HONGYAN_CLUSTER_HTTP_PORT:-3001}"
tcp_base="${HONGYAN_CLUSTER_TCP_PORT:-8911}"
nodes=3
cluster_dir="$HONGYAN_DATA_HOME/cluster"
pgdata="$cluster_dir/pg"
pg_user=hongyan
pg_db=hongyan

ensure_debs postgresql nats-server
log "building hongyan-server"
cargo build --release --locked -p hongyan-server
server_bin="$CARGO_TARGET_DIR/release/hongyan-server"

# Debian keeps initdb and postgres off PATH.
pg_bindir="${HONGYAN_PG_BINDIR:-$(pg_config --bindir 2>/dev/null || true)}"
if [ ! -x "$pg_bindir/initdb" ]; then
  pg_bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
fi
[ -x "$pg_bindir/initdb" ] || { echo "PostgreSQL's initdb not found (set HONGYAN_PG_BINDIR)" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root, it runs as the package's `postgres` user, which
# must be able to reach the data dir (root's home usually is private: then /var/tmp is used).
as_pg=()
if [ "$(id -u)" = 0 ]; then
  as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  mkdir -p "$cluster_dir"
  if ! "${as_pg[@]}" test -x "$cluster_dir"; then
    pgdata="/var/tmp/hongyan-cluster/pg"
    log "root's data dir is private to root: PostgreSQL data goes to $pgdata"
  fi
fi
mkdir -p "$pgdata"
chmod 700 "$pgdata"
[ ${#as_pg[@]} -eq 0 ] || chown postgres:postgres "$pgdata"

if [ ! -f "$pgdata/PG_VERSION" ]; then
  log "initdb $pgdata"
  "${as_pg[@]}" "$pg_bindir/initdb" -D "$pgdata" -U "$pg_user" --auth=trust -E UTF8 \
    --locale=C --no-instructions >/dev/null
fi

pids=()
node_pids=()
stop_all() {
  trap - INT TERM EXIT
  log "stopping"
  # The nodes first (SIGTERM: graceful), then postgres (SIGINT: fast shutdown) and nats-server.
  local pid
  for pid in "${node_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  [ ${#node_pids[@]} -eq 0 ] || wait "${node_pids[@]}" 2>/dev/null || true
  [ -n "${pg_pid:-}" ] && kill -INT "$pg_pid" 2>/dev/null
  [ -n "${nats_pid:-}" ] && kill -TERM "$nats_pid" 2>/dev/null
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop_all INT TERM EXIT

log "PostgreSQL on 127.0.0.1:$pg_port (log: $pgdata/postgres.log)"
"${as_pg[@]}" "$pg_bindir/postgres" -D "$pgdata" -h 127.0.0.1 -p "$pg_port" -k "$pgdata" \
  >"$pgdata/postgres.log" 2>&1 &
pg_pid=$!
pids+=("$pg_pid")

log "nats-server on 127.0.0.1:$nats_port"
nats-server -a 127.0.0.1 -p "$nats_port" &
nats_pid=$!
pids+=("$nats_pid")

for _ in $(seq 1 300); do
  "$pg_bindir/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break
  kill -0 "$pg_pid" 2>/dev/null || { cat "$pgdata/postgres.log" >&2; exit 1; }
  sleep 0.1
done
"$pg_bindir/pg_isready" -q -h 127.0.0.1 -p "$pg_port" || { echo "PostgreSQL did not start" >&2; exit 1; }
psql=("$pg_bindir/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U "$pg_user")
if [ -z "$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$pg_db'")" ]; then
  "${psql[@]}" -d postgres -c "CREATE DATABASE $pg_db"
fi
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break
  kill -0 "$nats_pid" 2>/dev/null || exit 1
  sleep 0.1
done

pg_url="postgres://$pg_user@127.0.0.1:$pg_port/$pg_db"
nats_url="nats://127.0.0.1:$nats_port"
mkdir -p "$cluster_dir/media" "$cluster_dir/logs"

# GET /readyz answers 200 (store reachable, NATS connected).
node_ready() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1" \
    && printf 'GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 \
    && head -n 1 <&3 | grep -q ' 200 ') 2>/dev/null
}

for k in $(seq 1 "$nodes"); do
  http_port=$((http_base + k - 1))
  tcp_port=$((tcp_base + k - 1))
  log "node$k: http 127.0.0.1:$http_port, tcp 127.0.0.1:$tcp_port (log: $cluster_dir/logs/node$k.log)"
  "$server_bin" --http-addr "127.0.0.1:$http_port" --tcp-addr "127.0.0.1:$tcp_port" \
    --data-dir "$cluster_dir/node$k" --media-dir "$cluster_dir/media" \
    --postgres "$pg_url" --nats "$nats_url" --node-name "node$k" \
    >"$cluster_dir/logs/node$k.log" 2>&1 &
  node_pids+=("$!")
  pids+=("$!")
done
for k in $(seq 1 "$nodes"); do
  http_port=$((http_base + k - 1))
  for _ in $(seq 1 300); do
    node_ready "$http_port" && break
    kill -0 "${node_pids[$((k - 1))]}" 2>/dev/null \
      || { tail -n 20 "$cluster_dir/logs/node$k.log" >&2; echo "node$k exited" >&2; exit 1; }
    sleep 0.1
  done
  node_ready "$http_port" || { echo "node$k is not ready (see $cluster_dir/logs/node$k.log)" >&2; exit 1; }
done

cat <<MSG

  HONGYAN_POSTGRES=$pg_url
  HONGYAN_NATS=$nats_url

MSG
for k in $(seq 1 "$nodes"); do
  printf '  node%s  pid %-7s  http://127.0.0.1:%s  (WebSocket ws://127.0.0.1:%s/websocket, TCP 127.0.0.1:%s)\n' \
    "$k" "${node_pids[$((k - 1))]}" "$((http_base + k - 1))" "$((http_base + k - 1))" "$((tcp_base + k - 1))"
done
cat <<MSG

Any node serves any user; a person on one node chats with one on another.
  Terminal client on node1:   npm run chat -- --server http://127.0.0.1:$http_base --profile alice
  … another on node2 over TCP: npm run chat -- --server http://127.0.0.1:$((http_base + 1)) --tcp 127.0.0.1:$((tcp_base + 1)) --profile bob
  The desktop app on node3:   HONGYAN_HTTP_ADDR=127.0.0.1:$((http_base + 2)) npm start
                              (it finds the node running there and connects to it; or set
                              the server URL in the app's settings)
  Kill a node to see the others carry on: kill -KILL <pid>.
  Metrics of a node: http://127.0.0.1:$http_base/metrics   Logs: $cluster_dir/logs/
Press Ctrl+C to stop the nodes, PostgreSQL and nats-server.
MSG
# Until Ctrl+C or PostgreSQL / nats-server exits; a node that exits is reported, the rest
# carry on (that is the trial).
while true; do
  exited=""
  wait -n -p exited "${pids[@]}" || true
  case "$exited" in
    "$pg_pid") log "PostgreSQL exited"; exit 1 ;;
    "$nats_pid") log "nats-server exited"; exit 1 ;;
    "") exit 0 ;;
  esac
  log "node with pid $exited exited (see $cluster_dir/logs/)"
  remaining=()
  for pid in "${pids[@]}"; do [ "$pid" = "$exited" ] || remaining+=("$pid"); done
  pids=("${remaining[@]}")
done
