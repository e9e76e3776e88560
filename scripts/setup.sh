#!/usr/bin/env bash
# Installs what Hongyan needs on Debian 12, idempotently. `setup.sh run` installs what running
# the product needs; `setup.sh test` adds what the tests need. Safe to run again.
source "$(dirname "$0")/lib.sh"
mode="${1:-run}"

run_pkgs=(build-essential pkg-config libssl-dev libdbus-1-dev)
test_pkgs=(dbus dbus-x11 gnome-keyring libsecret-tools)

missing=()
pkgs=("${run_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The mirror is sometimes flaky: one retry.
  as_root apt-get update -qq || as_root apt-get update -qq
  as_root apt-get install -y -qq "${missing[@]}" >/dev/null \
    || as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "Rust is required: https://rustup.rs" >&2; exit 1; }
if [ "$mode" = test ] && ! cargo nextest --version >/dev/null 2>&1; then
  log "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
