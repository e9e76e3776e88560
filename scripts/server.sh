#!/usr/bin/env bash
# Builds and runs hongyan-server in the foreground on the embedded SQLite default.
# Extra arguments go to the server (see `hongyan-server --help`).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
cargo build --release --locked -p hongyan-server
mkdir -p "$HONGYAN_DATA_HOME/server"
exec "$CARGO_TARGET_DIR/release/hongyan-server" --data-dir "$HONGYAN_DATA_HOME/server" "$@"
