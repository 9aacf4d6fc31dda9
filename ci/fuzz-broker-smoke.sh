#!/usr/bin/env bash
# Bounded `mqttspec fuzz` runs against the embedded broker and mosquitto.
# Findings against the brokers are printed but do not fail; a crash of
# mqttspec itself (a panic, a signal, any status but 0, 1 or 3) does.
#
#   FUZZ_BROKER_SECONDS   seconds per broker (default 20)
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_BROKER_SECONDS:-20}"
out="${TMPDIR:-/tmp}/mqttspec-fuzz-smoke"
rm -rf "$out" && mkdir -p "$out"
failed=0
run() {
    local name="$1"
    shift
    echo "fuzz-broker-smoke: $name for ${seconds}s"
    ./target/release/mqttspec fuzz "$@" --duration "${seconds}s" --seed 1 -q \
        --findings "$out/$name" --json "$out/$name.json"
    local status=$?
    case "$status" in
        0 | 1) ;;
        3) echo "fuzz-broker-smoke: $name could not be reached; skipped" ;;
        *)
            echo "fuzz-broker-smoke: mqttspec fuzz ended with status $status against $name"
            failed=1
            ;;
    esac
}
cargo build --release --bin mqttspec || exit 1
run embedded
if ci/brokers/mosquitto.sh version >/dev/null 2>&1; then
    run mosquitto --spawn 'ci/brokers/mosquitto.sh start {port}' --broker "$(ci/brokers/mosquitto.sh version)"
fi
exit "$failed"
