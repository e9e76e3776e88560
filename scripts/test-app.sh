#!/usr/bin/env bash
# The desktop app's tests: unit tests of src-tauri, then the real app end to end (Xvfb +
# tauri-driver + WebKitWebDriver against a real hongyan-server; tests/e2e/app). The desktop
# tests start their own private D-Bus session with a tray watcher (status-notifier-watcher)
# and a notification daemon (dunst) each.
# Idempotent setup: installs the Debian packages and tauri-driver only when missing.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_debs build-essential pkg-config libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev \
  libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev \
  libjavascriptcoregtk-4.1-dev libxdo-dev xvfb xauth webkit2gtk-driver \
  dbus-daemon dunst haskell-status-notifier-item-utils xdotool imagemagick
if ! command -v tauri-driver >/dev/null 2>&1; then
  log "installing tauri-driver"
  cargo install tauri-driver --locked
fi

ensure_node_modules
log "building the UI (ui/dist)"
npm run -s -w ui build

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
# One app at a time: the tests share the X display.
xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo test -p hongyan-app --features custom-protocol --test e2e_app -- \
  --ignored --nocapture --test-threads=1 --skip update:: "$@"

# Installs packages: only where we are root (CI is); elsewhere run it by hand with sudo.
if [ $# -eq 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "app update end to end (packages A and B)"
    bash scripts/test-update.sh
  else
    log "SKIPPED the update end to end: scripts/test-update.sh needs root (dpkg -i)"
  fi
fi
