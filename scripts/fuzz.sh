#!/usr/bin/env bash
# Fuzzes with cargo-fuzz (libFuzzer); docs/RELIABILITY.md, "Fuzzing". Targets (fuzz/fuzz_targets):
#   frame_decoder   the TCP frame codec + envelope decoder (server gateway)
#   http_bodies     every JSON body / query string the HTTP API deserializes, + its validation
#   sdk_responses   every server answer the SDK parses, sync pages and pushes into its store
#
#   fuzz.sh smoke              every target briefly, ~60 s in all (what `npm test` does;
#                              $HONGYAN_FUZZ_SECONDS overrides the total)
#   fuzz.sh [seconds] [target] a longer run of each target (or one), default 300 s each
# Seeds come from fuzz/seeds/<target>/ (real bodies; inputs that once crashed are kept there).
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the run.
source "$(dirname "$0")/lib.sh"
cd "$ROOT/fuzz"
targets=(frame_decoder http_bodies sdk_responses)
if [ "${1:-}" = smoke ]; then
  secs=$(( ${HONGYAN_FUZZ_SECONDS:-60} / ${#targets[@]} ))
else
  secs="${1:-300}"
  [ -n "${2:-}" ] && targets=("$2")
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
# cargo-fuzz needs nightly-only flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
# Keep the fuzz build out of the main target dir: it uses different compiler flags.
export CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz"
log "building fuzz targets"
cargo fuzz build
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for target in "${targets[@]}"; do
  corpus="$work/$target"
  mkdir -p "$corpus"
  cp "seeds/$target"/* "$corpus/"
  log "fuzzing $target for ${secs}s"
  # -rss_limit_mb: a leak or an allocation blow-up fails the run like a panic does.
  cargo fuzz run "$target" "$corpus" -- -max_total_time="$secs" -max_len=8192 \
    -rss_limit_mb=1024 -print_final_stats=1
done
