#!/usr/bin/env bash
# The web UI's tests: typecheck, lint, component tests (vitest), build (ui/dist), then the
# built UI end to end in Debian chromium with a fake Tauri backend (tests/e2e/ui).
# Idempotent setup: installs chromium + CJK/emoji fonts and runs `npm ci` only when needed.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_debs chromium fonts-noto-cjk fonts-noto-color-emoji
export CHROMIUM="${CHROMIUM:-$(command -v chromium || echo /usr/bin/chromium)}"

ensure_node_modules

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
log "ui: hostile text, CSP, remote content (playwright-core + chromium, fake IPC)"
node tests/e2e/ui/xss.mjs
log "ui: all passed"
