#!/usr/bin/env bash
# Opens a terminal chat client against a running local server.
#   npm run chat -- --profile bob       a second person on the same machine
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
cargo build --release --locked -p hongyan-server -p hongyan-cli
exec "$CARGO_TARGET_DIR/release/hongyan-chat" "$@"
