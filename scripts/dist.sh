#!/usr/bin/env bash
# Builds the desktop app's installable, self-updating packages (docs/UPDATES.md):
#   scripts/dist.sh [--debug] [--out DIR]
# a release build with the UI embedded and the update public key built in, bundled as a .deb
# and an AppImage, each with its signature (<bundle>.sig) for `hongyan-server admin release publish`. The bundles and
# signatures are copied to DIR (default dist/).
# The signing key: $TAURI_SIGNING_PRIVATE_KEY_PATH, default ~/.config/hongyan/updater.key;
# generated (without a password) when missing — back it up: without it no installed copy can
# be updated again. --debug builds the dev profile (what the update e2e test installs).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

profile=release
out=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) profile=debug ;;
    --out) out="$2"; shift ;;
    *) echo "usage: scripts/dist.sh [--debug] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done

ensure_debs build-essential pkg-config libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev \
  libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev \
  libjavascriptcoregtk-4.1-dev libxdo-dev squashfs-tools
ensure_node_modules

key="${TAURI_SIGNING_PRIVATE_KEY_PATH:-$HOME/.config/hongyan/updater.key}"
if [ ! -f "$key" ]; then
  mkdir -p "$(dirname "$key")"
  npx tauri signer generate --ci -p "" -w "$key" >/dev/null
  log "NEW update signing key: $key (public: $key.pub). Back it up and keep it secret;"
  log "every future release must be signed with it or installed copies cannot update."
fi
pubkey="$(cat "$key.pub")"
export TAURI_SIGNING_PRIVATE_KEY_PASSWORD="${TAURI_SIGNING_PRIVATE_KEY_PASSWORD:-}"

version="$(cargo metadata --no-deps --format-version 1 |
  node -e 'const m=JSON.parse(require("fs").readFileSync(0));
           console.log(m.packages.find(p=>p.name==="hongyan-app").version)')"
config="{\"plugins\":{\"updater\":{\"pubkey\":\"$pubkey\"}}}"
flags=(--config "$config")
[ "$profile" = debug ] && flags+=(--debug)
bundle_dir="$CARGO_TARGET_DIR/$profile/bundle"
# Tauri's bundler marks target/<profile>/hongyan itself as a .deb binary; a later plain
# `cargo build` (npm start, the app tests) would keep that file and its copy would think it
# was installed from a package. Touching a source makes that build link a plain one again.
trap 'touch "$ROOT/src-tauri/src/main.rs"' EXIT

log "Hongyan $version ($profile): UI build, app build, .deb"
rm -rf "$bundle_dir/deb" "$bundle_dir/appimage"
npx tauri build "${flags[@]}" --bundles deb
bundles=("$bundle_dir"/deb/*_"$version"_*.deb)

# The AppImage: packed by crates/appimage (offline; Tauri's bundler would download its
# AppImage tools from GitHub), from the same binary, marked as an AppImage build.
log "Hongyan $version ($profile): AppImage"
cargo run -q -p hongyan-appimage -- --binary "$CARGO_TARGET_DIR/$profile/hongyan" \
  --version "$version" --desktop-template src-tauri/packaging/hongyan.desktop \
  --icon icons/128x128.png --out "$bundle_dir/appimage" >/dev/null
bundles+=("$bundle_dir/appimage/Hongyan_${version}_amd64.AppImage")

mkdir -p "$out"
for b in "${bundles[@]}"; do
  npx tauri signer sign -f "$key" --app-version "$version" "$b" >/dev/null
  cp "$b" "$b.sig" "$out/"
done
log "signed bundles in $out/:"
ls -l "$out"
echo "publish with: hongyan-server admin release publish --version $version" \
  "--bundle $out/$(basename "${bundles[0]}") --signature $out/$(basename "${bundles[0]}").sig"
