#!/usr/bin/env bash
# Builds the desktop app's installable package: a release build with the UI embedded, bundled
# as a .deb (under $CARGO_TARGET_DIR/release/bundle/deb/). No AppImage: the Tauri bundler
# downloads its AppImage tools from GitHub, which no package registry ships (src-tauri/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_debs build-essential pkg-config libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev \
  libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev \
  libjavascriptcoregtk-4.1-dev libxdo-dev
ensure_node_modules
log "tauri build --bundles deb (UI build, release build, bundle)"
npx tauri build --bundles deb
ls -l "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb
