#!/usr/bin/env bash
# Starts a local hongyan-server (embedded SQLite under the user's data dir) and the Hongyan
# desktop app connected to it. Closing the app (tray → Quit) stops the server.
# Without a display it opens the terminal chat instead.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bin="$CARGO_TARGET_DIR/release"
data="$HONGYAN_DATA_HOME/server"
http="${HONGYAN_HTTP_ADDR:-127.0.0.1:3000}"
gui=1
[ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && gui=""

if [ -n "$gui" ]; then
  log "building the UI and the app (release; the first build takes several minutes)"
  npm run -s -w ui build
  cargo build --release --locked -p hongyan-server -p hongyan-cli -p hongyan-app \
    --features hongyan-app/custom-protocol
else
  log "no display: building the server and the terminal chat"
  cargo build --release --locked -p hongyan-server -p hongyan-cli
fi

mkdir -p "$data"
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

log "a second person on this machine: npm run chat -- --profile bob"
if [ -n "$gui" ]; then
  HONGYAN_SERVER="http://$http" "$bin/hongyan" "$@"
else
  "$bin/hongyan-chat" --server "http://$http" "$@"
fi
