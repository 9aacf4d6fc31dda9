#!/usr/bin/env bash
# Checks that `cargo install --path .` works and that the installed binary
# runs outside the repository, with its embedded scenarios. Reuses target/
# (CARGO_TARGET_DIR) so that the install relinks the release build rather
# than building everything again.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(mktemp -d)"
away="$(mktemp -d)"
trap 'rm -rf "$root" "$away"' EXIT
CARGO_TARGET_DIR="$PWD/target" cargo install --locked --path . --root "$root" --quiet
bin="$root/bin/mqttspec"
cd "$away"
"$bin" --version
listed="$("$bin" list | wc -l)"
echo "the installed binary lists $listed scenarios (embedded) from $(pwd)"
[ "$listed" -gt 100 ]
# One scenario against the embedded broker, reports written here (a
# failure verdict, exit 1, is fine: this checks that it runs).
status=0
"$bin" run -q --protocol 3.1.1 --report-dir out 1.5.3/zero-width-no-break-space-kept || status=$?
[ "$status" -le 1 ]
test -s out/report.json && test -s out/junit.xml
echo "cargo install: ok"
