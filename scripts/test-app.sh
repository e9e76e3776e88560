#!/usr/bin/env bash
# The desktop app's tests: unit tests of src-tauri, then the real app end to end (Xvfb +
# tauri-driver + WebKitWebDriver against a real hongyan-server; tests/e2e/app).
# Idempotent setup: installs the Debian packages and tauri-driver only when missing.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

pkgs=(build-essential pkg-config libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev libgtk-3-dev
  libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev
  libxdo-dev xvfb xauth webkit2gtk-driver)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq || as_root apt-get update -qq
  as_root apt-get install -y -qq "${missing[@]}" >/dev/null \
    || as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v tauri-driver >/dev/null 2>&1; then
  log "installing tauri-driver"
  cargo install tauri-driver --locked
fi

if [ -f ui/package.json ] && grep -q '"build"' ui/package.json; then
  log "building the UI (ui/dist)"
  [ -d node_modules ] || { echo "node_modules missing: run npm ci first" >&2; exit 1; }
  npm run -w ui build
fi

log "building the server and the app (embedded UI)"
cargo build -p hongyan-server
cargo build -p hongyan-app --features custom-protocol

log "app unit tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run -p hongyan-app --features custom-protocol --lib --bins
else
  cargo test -p hongyan-app --features custom-protocol --lib --bins
fi

log "app end to end (xvfb-run)"
HONGYAN_E2E_APP=1 xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo test -p hongyan-app --features custom-protocol --test e2e_app -- --nocapture
