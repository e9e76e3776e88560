#!/usr/bin/env bash
# Installs what Hongyan needs on Debian 12, idempotently. `setup.sh run` installs what running
# the product needs; `setup.sh test` adds what the tests need. Safe to run again.
source "$(dirname "$0")/lib.sh"
mode="${1:-run}"

# Rust builds (the app's WebKitGTK stack included).
run_pkgs=(build-essential pkg-config curl file libssl-dev libdbus-1-dev
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  libsoup-3.0-dev libjavascriptcoregtk-4.1-dev libxdo-dev)
# Keyring, browser and desktop tests; PostgreSQL and nats-server for the many-node tests
# (started by the test harness on loopback, never as system services); mksquashfs for the
# AppImage and sudo for the app's own .deb install in the update test.
test_pkgs=(dbus dbus-x11 gnome-keyring libsecret-tools xvfb xauth webkit2gtk-driver
  chromium fonts-noto-cjk fonts-noto-color-emoji
  postgresql nats-server
  squashfs-tools sudo)

pkgs=("${run_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")
ensure_debs "${pkgs[@]}"

command -v npm >/dev/null || { echo "Node.js 20 with npm is required" >&2; exit 1; }
ensure_node_modules

command -v cargo >/dev/null || { echo "Rust is required: https://rustup.rs" >&2; exit 1; }
if [ "$mode" = test ] && ! cargo nextest --version >/dev/null 2>&1; then
  log "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
