#!/usr/bin/env bash
# Local trials of many nodes (issue 8): starts PostgreSQL and nats-server on loopback, in the
# foreground, from the Debian packages (no systemd, no docker), and prints their URLs.
# Ctrl+C stops everything. Data persists in $HONGYAN_DATA_HOME/cluster/pg.
# Ports: HONGYAN_CLUSTER_PG_PORT (default 55432), HONGYAN_CLUSTER_NATS_PORT (default 54222).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

pg_port="${HONGYAN_CLUSTER_PG_PORT:-55432}"
nats_port="${HONGYAN_CLUSTER_NATS_PORT:-54222}"
cluster_dir="$HONGYAN_DATA_HOME/cluster"
pgdata="$cluster_dir/pg"
pg_user=hongyan
pg_db=hongyan

ensure_debs postgresql nats-server

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
stop_all() {
  trap - INT TERM EXIT
  log "stopping"
  # postgres: SIGINT is a fast shutdown; nats-server: SIGTERM.
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

cat <<MSG

  HONGYAN_POSTGRES=postgres://$pg_user@127.0.0.1:$pg_port/$pg_db
  HONGYAN_NATS=nats://127.0.0.1:$nats_port

The three hongyan-server nodes are not started yet: that part comes with the PostgreSQL
storage backend. Press Ctrl+C to stop PostgreSQL and nats-server.
MSG
# Until Ctrl+C or one of them exits.
wait -n "${pids[@]}"
