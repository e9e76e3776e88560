#!/usr/bin/env bash
# The web UI's tests: typecheck, lint, component tests (vitest), build (ui/dist), then the
# built UI end to end in Debian chromium with a fake Tauri backend (tests/e2e/ui).
# Idempotent setup: installs chromium + CJK/emoji fonts and runs `npm ci` only when needed.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

pkgs=(chromium fonts-noto-cjk fonts-noto-color-emoji)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq || as_root apt-get update -qq
  as_root apt-get install -y -qq "${missing[@]}" >/dev/null \
    || as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export CHROMIUM="${CHROMIUM:-$(command -v chromium || echo /usr/bin/chromium)}"

# node_modules missing, or older than the lockfile (npm keeps its own copy of the lock there).
if [ ! -x node_modules/.bin/vite ] || [ ! -x node_modules/.bin/vitest ] \
  || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi

log "ui: typecheck"
npm run -s -w ui typecheck
log "ui: lint"
npm run -s -w ui lint
log "ui: component tests (vitest)"
npm run -s -w ui test
log "ui: build (ui/dist)"
npm run -s -w ui build
log "ui: end to end (playwright-core + chromium, fake IPC)"
node tests/e2e/ui/run.mjs
log "ui: all passed"
