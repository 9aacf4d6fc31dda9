#!/usr/bin/env bash
# Regenerates the published results: runs the suite against every broker
# in ci/brokers/ that is installed (the embedded rumqttd always), and writes
#   reports/results/<implementation>-<version>-<mqtt version>.json
#   reports/site/            (mqttspec matrix: index.html and case pages)
#   reports/matrix.png       (a screenshot of the site, when Chromium is here)
#   README.md                (the results table between its markers)
#
#   ci/publish-results.sh [--install] [--with BROKER]... [--only BROKER]...
#     --install        install missing brokers first (ci/brokers/<b>.sh install)
#     --with BROKER    also run an optional broker that is slow to build (rmqtt)
#     --only BROKER    run only these brokers (repeatable); others keep their results
#
# A broker's MQTT versions come from `ci/brokers/<b>.sh protocols` when the
# script has that command, else from the table below.
set -euo pipefail
cd "$(dirname "$0")/.."

INSTALL=0
OPTIONAL=()
ONLY=()
while [ $# -gt 0 ]; do
    case "$1" in
        --install) INSTALL=1 ;;
        --with) OPTIONAL+=("$2"); shift ;;
        --only) ONLY+=("$2"); shift ;;
        *) echo "usage: $0 [--install] [--with BROKER]... [--only BROKER]..." >&2; exit 2 ;;
    esac
    shift
done

# Brokers slow to build run only when asked for with --with.
SLOW=" rmqtt "

protocols_of() {
    if out=$("ci/brokers/$1.sh" protocols 2>/dev/null); then
        echo "$out"
        return
    fi
    case "$1" in
        aedes | amqtt) echo "3.1.1" ;;
        ejabberd) echo "5.0" ;;
        *) echo "3.1.1 5.0" ;;
    esac
}

# Scenarios at once: brokers that mix up concurrent connections get one.
jobs_of() {
    case "$1" in
        amqtt | rumqttd) echo 1 ;;
        *) echo 8 ;;
    esac
}

wanted() {
    [ ${#ONLY[@]} -eq 0 ] && return 0
    local b
    for b in "${ONLY[@]}"; do [ "$b" = "$1" ] && return 0; done
    return 1
}

cargo build --release --bin mqttspec
BIN="$PWD/target/release/mqttspec"
OUT=reports/results
mkdir -p "$OUT"

# run_suite NAME-VERSION PROTOCOL JOBS TARGET-ARGS...
run_suite() {
    local name="$1" proto="$2" jobs="$3"
    shift 3
    local file="$OUT/$name-$proto.json" tmp
    tmp="$(mktemp "$OUT/.tmp.XXXXXX")"
    echo "==> $name, MQTT $proto"
    local status=0
    "$BIN" run -q --protocol "$proto" --jobs "$jobs" --json "$tmp" "$@" >/dev/null || status=$?
    # 0: all passed, 1: some failed; anything else is no result to publish.
    if [ "$status" -le 1 ] && [ -s "$tmp" ]; then
        mv "$tmp" "$file"
        echo "    $file"
    else
        rm -f "$tmp"
        echo "    no result (exit status $status); $file left as it was" >&2
    fi
}

# The embedded broker (rumqttd, in-process).
if wanted rumqttd; then
    # The embedded broker's version is the one Cargo.lock pins.
    version="$(awk '/^name = "rumqttd"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)"
    name="rumqttd-${version:-unknown}"
    for proto in $(protocols_of rumqttd); do
        run_suite "$name" "$proto" "$(jobs_of rumqttd)"
    done
fi

for script in ci/brokers/*.sh; do
    b="$(basename "$script" .sh)"
    case "$b" in lib | rumqttd) continue ;; esac
    wanted "$b" || continue
    if [[ "$SLOW" == *" $b "* ]] && [[ " ${OPTIONAL[*]-} " != *" $b "* ]]; then
        echo "==> $b: optional (slow to build), use --with $b"
        continue
    fi
    if [ "$INSTALL" = 1 ]; then
        "$script" install || { echo "==> $b: install failed, skipped" >&2; continue; }
    fi
    if ! version="$("$script" version 2>/dev/null)"; then
        echo "==> $b: not installed, skipped (--install installs it)"
        continue
    fi
    name="$(awk '{print $1 "-" $2; exit}' <<<"$version")"
    ws=""
    [ "$b" = mosquitto ] && ws=" {ws_port}"
    # A broker that lets no client in without credentials says which.
    profile=()
    if creds="$("$script" credentials 2>/dev/null)"; then
        pfile="$(mktemp)"
        { echo "credentials:"; sed 's/^/  /' <<<"$creds"; } >"$pfile"
        profile=(--profile "$pfile")
    fi
    for proto in $(protocols_of "$b"); do
        run_suite "$name" "$proto" "$(jobs_of "$b")" --spawn "exec '$PWD/$script' start {port}$ws" "${profile[@]}"
    done
done

shopt -s nullglob
results=("$OUT"/*.json)
rm -rf reports/site/case
"$BIN" matrix "${results[@]}" --out reports/site --readme README.md

if [ -x ci/screenshot.sh ]; then
    ci/screenshot.sh reports/site/index.html reports/matrix.png || echo "no screenshot (Chromium missing?)" >&2
fi
