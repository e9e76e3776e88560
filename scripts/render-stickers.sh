#!/usr/bin/env bash
# Renders the built-in sticker pack (crates/server/assets/stickers/<pack>/*.svg) to the
# 160×160 PNGs the server embeds, then shrinks them losslessly. Run after editing an SVG and
# commit the PNGs with it. Needs rsvg-convert (librsvg2-bin) and optipng; installs them on
# Debian/Ubuntu when missing. The Chinese captions use the Noto Sans CJK SC font
# (fonts-noto-cjk).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_debs librsvg2-bin optipng fonts-noto-cjk

SIZE=160
for svg in "$ROOT"/crates/server/assets/stickers/*/*.svg; do
  png="${svg%.svg}.png"
  rsvg-convert --width "$SIZE" --height "$SIZE" --keep-aspect-ratio --format png \
    --output "$png" "$svg"
  # -strip all: no timestamps or text chunks, so a re-render of an unchanged SVG is identical.
  optipng -quiet -o5 -strip all "$png"
  printf '%6d bytes  %s\n' "$(stat -c %s "$png")" "${png#"$ROOT"/}"
done
