#!/usr/bin/env bash
# Fuzzing throughput against a local mosquitto: several runs of
# `mqttspec fuzz`, the median of their sessions per second.
#
#   benches/fuzz-throughput.sh [RUNS] [SECONDS]     (default 5 runs of 20 s)
#
# A session is: connect, at least one mutated packet, then the close (or the
# broker's answer). Needs mosquitto (ci/brokers/mosquitto.sh install).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
seconds="${2:-20}"
cargo build --release --bin mqttspec >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
rates=()
for i in $(seq 1 "$runs"); do
    ./target/release/mqttspec fuzz --spawn 'ci/brokers/mosquitto.sh start {port}' \
        --broker "$(ci/brokers/mosquitto.sh version)" --duration "${seconds}s" \
        --seed "$i" --json "$out/run$i.json" -q >/dev/null 2>&1 || true
    rate="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sessions_per_s"])' "$out/run$i.json")"
    echo "run $i: $rate sessions/s"
    rates+=("$rate")
done
median="$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')"
echo "median: $median sessions/s over $runs runs of ${seconds}s (mosquitto, $(nproc) cores)"
