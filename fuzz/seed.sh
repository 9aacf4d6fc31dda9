#!/usr/bin/env bash
# Builds the seed corpus into fuzz/corpus/<target>/ from the scenario files
# under cases/ and the hand-written seeds under fuzz/seeds/.
# Usage: fuzz/seed.sh [OUT_DIR]   (default: fuzz/corpus)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
out="${1:-$here/corpus}"

cargo run --quiet --manifest-path "$here/Cargo.toml" --example seed -- \
    "$root/cases" "$here/seeds" "$out"
