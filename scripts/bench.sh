#!/usr/bin/env bash
# Runs the benchmarks recorded in docs/BENCHMARKS.md. Bounded: loopback only, fixed counts
# and durations. Pass a name to run one: store | chat | idle | search | search-account | image |
# cluster.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
which="${1:-all}"
# 10k idle connections need 10k descriptors on each side.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release --locked -p hongyan-server -p hongyan-bench --bins
load="$CARGO_TARGET_DIR/release/hongyan-load"

if [ "$which" = all ] || [ "$which" = store ]; then
  log "store: ingest batched vs one txn per message; history keyset vs OFFSET (1M messages)"
  cargo bench --locked -p hongyan-bench --bench store
fi
if [ "$which" = all ] || [ "$which" = chat ]; then
  for transport in ws tcp; do
    log "chat: 100 clients, 1:1, $transport"
    "$load" chat --clients 100 --seconds 10 --window 8 --transport "$transport"
  done
fi
if [ "$which" = all ] || [ "$which" = idle ]; then
  log "idle: 10k logged-in WebSocket connections"
  "$load" idle --conns 10000 --transport ws
fi
if [ "$which" = all ] || [ "$which" = search ]; then
  log "search: tantivy (hongyan-search) vs SQLite FTS5 trigram, 1M generated messages"
  "$CARGO_TARGET_DIR/release/hongyan-search-bench" --messages 1000000
fi
if [ "$which" = all ] || [ "$which" = search ] || [ "$which" = search-account ]; then
  log "search-account: Client::search on a 1M-message account vs hongyan-search alone vs LIKE"
  "$CARGO_TARGET_DIR/release/hongyan-search-account-bench" --messages 1000000 --require-complete
fi
if [ "$which" = all ] || [ "$which" = image ]; then
  log "image: 12 MP JPEG → 1280 px with the pipeline vs the image crate alone; PNG, GIF"
  cargo bench --locked -p hongyan-bench --bench image
fi
if [ "$which" = all ] || [ "$which" = cluster ]; then
  # Issue 8: the same chat load on the baseline (1 node, SQLite) and on 1, 2, 3 nodes sharing
  # a real PostgreSQL + core NATS (started on loopback by the tool), then 5,000 idle
  # connections per node; one table with ratios against the baseline.
  ensure_debs postgresql nats-server
  log "cluster: 100 clients, 1:1, ws — 1 node SQLite vs 1/2/3 nodes on PostgreSQL + NATS"
  "$load" compare --clients 100 --seconds 10 --window 8 --max-messages 1000000 \
    --transport ws --nodes 1,2,3 --idle-conns 5000
fi
