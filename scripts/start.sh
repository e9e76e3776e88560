#!/usr/bin/env bash
# Starts a local hongyan-server (embedded SQLite under the user's data dir) and a terminal
# chat client connected to it. Quitting the chat stops the server.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
log "building (release)"
cargo build --release --locked -p hongyan-server -p hongyan-cli
bin="$CARGO_TARGET_DIR/release"
data="$HONGYAN_DATA_HOME/server"
mkdir -p "$data"
http="${HONGYAN_HTTP_ADDR:-127.0.0.1:3000}"

server_pid=""
if curl -fsS "http://$http/healthz" >/dev/null 2>&1; then
  log "a server is already running on $http; using it"
else
  log "starting hongyan-server (data: $data, log: $data/server.log)"
  "$bin/hongyan-server" --data-dir "$data" --http-addr "$http" >"$data/server.out" 2>"$data/server.log" &
  server_pid=$!
  trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null' EXIT
  for _ in $(seq 1 100); do
    grep -q "listening" "$data/server.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$data/server.log" >&2; exit 1; }
    sleep 0.1
  done
  log "$(cat "$data/server.out")"
fi
log "open a second person with: npm run chat -- --profile bob"
"$bin/hongyan-chat" --server "http://$http" "$@"
