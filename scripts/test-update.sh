#!/usr/bin/env bash
# The update end to end (docs/UPDATES.md): builds version A (this tree) and version B (a copy
# with the next major version and core-level + 1) as signed .deb and AppImage packages, then
# runs the ignored e2e tests `update::` under Xvfb: A is installed (dpkg, or the AppImage file
# copied), B is published with `hongyan-server admin release publish` on a server that
# requires B's core level, and A must update itself to B from the app's UI. Needs root
# (dpkg -i; the app installs the .deb with sudo). Run by scripts/test-app.sh after the other
# app tests.
#   scripts/test-update.sh [--release]   (default: dev-profile packages, much faster to build)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

profile=(--debug)
[ "${1:-}" = --release ] && profile=()
[ "$(id -u)" = 0 ] || { echo "test-update.sh installs packages: run it as root" >&2; exit 1; }
ensure_debs sudo xvfb xauth webkit2gtk-driver
ensure_node_modules

# Outside the clone and fixed, so B's copy reuses its build artifacts from run to run. The
# signing key is a throwaway one for these test builds (never the release key).
work="$(dirname "$CARGO_TARGET_DIR")/update-test"
mkdir -p "$work"
export TAURI_SIGNING_PRIVATE_KEY_PATH="$work/updater.key"
[ -f "$TAURI_SIGNING_PRIVATE_KEY_PATH" ] ||
  npx tauri signer generate --ci -p "" -w "$TAURI_SIGNING_PRIVATE_KEY_PATH" >/dev/null

# B's build (in a copy of the tree) leaves its binary at target/debug/hongyan: make the next
# build of this tree link its own again.
trap 'touch "$ROOT/src-tauri/src/main.rs"' EXIT

log "version A: this tree"
rm -rf "$work/a" "$work/b"
bash scripts/dist.sh "${profile[@]}" --out "$work/a"

log "version B: a copy with the next version and core level"
# Kept between runs (its own node_modules, installed once by dist.sh); files keep their
# times (-p) so nothing looks newer than it is.
src_b="$work/src-b"
mkdir -p "$src_b"
git ls-files -co --exclude-standard -z | xargs -0 cp -p --parents -t "$src_b"
read -r version_a level_a < <(node -e '
  const t = require("fs").readFileSync("Cargo.toml", "utf8");
  const v = /\[workspace\.package\][^[]*?\nversion = "([^"]+)"/.exec(t)[1];
  const l = /\[workspace\.metadata\.hongyan\][^[]*?\ncore-level = (\d+)/.exec(t)[1];
  console.log(v, l)')
version_b="$(( ${version_a%%.*} + 1 )).0.0"
level_b=$(( level_a + 1 ))
sed -i -e "0,/^version = \"$version_a\"/s//version = \"$version_b\"/" \
  -e "s/^core-level = $level_a\$/core-level = $level_b/" "$src_b/Cargo.toml"
(cd "$src_b" && bash scripts/dist.sh "${profile[@]}" --out "$work/b")

log "a copy of B signed with another key, announced as $version_b-rc.1 (A must refuse it)"
rm -rf "$work/bogus" && mkdir -p "$work/bogus" && cp "$work"/b/*.deb "$work"/b/*.AppImage "$work/bogus/"
[ -f "$work/bogus.key" ] || npx tauri signer generate --ci -p "" -w "$work/bogus.key" >/dev/null
for bundle in "$work"/bogus/*.deb "$work"/bogus/*.AppImage; do
  npx tauri signer sign -f "$work/bogus.key" --app-version "$version_b-rc.1" "$bundle" >/dev/null
done

log "update e2e: A $version_a (core $level_a) -> B $version_b (core $level_b)"
cargo build -p hongyan-server
export HONGYAN_UPDATE_DIR="$work" HONGYAN_UPDATE_A="$version_a" HONGYAN_UPDATE_B="$version_b" \
  HONGYAN_UPDATE_B_LEVEL="$level_b"
xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo test -p hongyan-app --features custom-protocol --test e2e_app -- \
  --ignored --nocapture --test-threads=1 update::
