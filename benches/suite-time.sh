#!/usr/bin/env bash
# Wall time of the whole server suite of one MQTT version against a local broker.
#
#   benches/suite-time.sh [BROKER] [RUNS] [PROTOCOL]
#       BROKER: mosquitto (default), aedes, amqtt, rumqttd; PROTOCOL: 3.1.1 (default) or 5.0
#
# Builds mqttspec in release mode, starts the broker once with
# ci/brokers/BROKER.sh on a free port, runs `mqttspec run --protocol PROTOCOL`
# RUNS times (default 5) and prints each wall time and the median. Uses
# hyperfine when it is installed; the figures are the same either way.
set -euo pipefail
cd "$(dirname "$0")/.."
broker=${1:-mosquitto}
runs=${2:-5}
proto=${3:-3.1.1}

cargo build --release --quiet
bin=target/release/mqttspec
script=ci/brokers/$broker.sh
"$script" version >/dev/null 2>&1 || { echo "$broker is not installed: run $script install" >&2; exit 2; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$script" start "$port" >/dev/null 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

cmd="$bin run --target tcp://127.0.0.1:$port --protocol $proto --quiet"
echo "broker: $("$script" version)   suite: $($bin list --protocol "$proto" | wc -l) scenarios   machine: $(nproc) cores"
if command -v hyperfine >/dev/null 2>&1; then
  # Exit status 1 (the broker fails some scenarios) is expected.
  hyperfine --runs "$runs" --ignore-failure "$cmd"
  exit 0
fi
times=()
for i in $(seq "$runs"); do
  start=$(date +%s.%N)
  $cmd >/dev/null || true
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc)
  times+=("$t")
  printf 'run %d: %.2f s\n' "$i" "$t"
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "median: %.2f s over %d runs\n", a[int((NR+1)/2)], NR}'
