#!/usr/bin/env bash
# ci/screenshot.sh PAGE.html OUT.png: a screenshot of a local page in
# headless Chromium, with nothing reaching out to the network.
set -euo pipefail
page="$(realpath "$1")"
out="$(realpath -m "$2")"
bin="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
[ -n "$bin" ] || { echo "Chromium is not installed (ci/install-chromium.sh)" >&2; exit 1; }
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
timeout 120 "$bin" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --window-size=1280,1100 --hide-scrollbars \
    --screenshot="$out" "file://$page" 2>/dev/null
test -s "$out"
