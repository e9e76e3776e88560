#!/usr/bin/env bash
# Fuzzes the frame + envelope decoder with cargo-fuzz (libFuzzer).
#   fuzz.sh smoke        a short bounded run (what `npm test` does)
#   fuzz.sh [seconds]    a longer run, default 300 s
source "$(dirname "$0")/lib.sh"
cd "$ROOT/fuzz"
secs="${1:-300}"
[ "$secs" = smoke ] && secs="${HONGYAN_FUZZ_SECONDS:-30}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
# cargo-fuzz needs nightly-only flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
# Keep the fuzz build out of the main target dir: it uses different compiler flags.
export CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz"
corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
cp seeds/frame_decoder/* "$corpus/"
log "fuzzing frame_decoder for ${secs}s"
cargo fuzz run frame_decoder "$corpus" -- -max_total_time="$secs" -max_len=8192 -rss_limit_mb=1024
