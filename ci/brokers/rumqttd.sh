#!/usr/bin/env bash
# rumqttd (Rust, crates.io) for mqttspec runs.
#
#   rumqttd.sh install      cargo install rumqttd --version 0.20.0
#                           --root $MQTTSPEC_BROKERS_DIR/rumqttd  (about 3-5 min)
#   rumqttd.sh start PORT   rumqttd in the foreground with TWO listeners:
#                             127.0.0.1:PORT      MQTT 3.1.1 (rumqttd "v4" server)
#                             127.0.0.1:PORT+1    MQTT 5.0   (rumqttd "v5" server)
#                           rumqttd cannot serve both protocol levels on one
#                           listener, so PORT+1 must be free as well.
#   rumqttd.sh version      prints e.g. "rumqttd 0.20.0"
#
# So with `--spawn 'ci/brokers/rumqttd.sh start {port}'` mqttspec reaches the
# 3.1.1 listener; run 5.0 scenarios against the v5 listener with
# `--target tcp://127.0.0.1:PORT+1 --protocol 5.0` on a broker started by hand.
#
# Quirks: rumqttd refuses a CONNECT with Keep Alive = 0 (closes the
# connection), by design. It keeps everything in memory (no persistence).
#
# Not installed --locked on purpose: rumqttd 0.20.0's Cargo.lock pins a
# `metrics` release that no longer compiles on current rustc.
# Settings (see the Config struct in rumqttd 0.20.0 src/lib.rs): anonymous
# access (no auth table), no console/prometheus/websocket listeners,
# 60 s to send CONNECT, payloads up to the MQTT maximum (256 MiB),
# 10010 connections, no delay between accepts.
set -euo pipefail

BROKER_NAME=rumqttd
RUMQTTD_VERSION=0.20.0
# shellcheck source=ci/brokers/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$BROKERS_DIR/rumqttd"
BIN="$ROOT/bin/rumqttd"

installed_version() {
    [ -x "$BIN" ] || return 1
    # `rumqttd --version` prints "rumqttd 0.20.0"
    "$BIN" --version 2>/dev/null | sed -n 's/^rumqttd \([^ ]*\).*/\1/p' | head -n1
}

cmd_install() {
    if [ "$(installed_version || true)" = "$RUMQTTD_VERSION" ]; then
        log "already installed: rumqttd $RUMQTTD_VERSION in $ROOT"
        return 0
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust first)"
    mkdir -p "$ROOT"
    cargo install rumqttd --version "$RUMQTTD_VERSION" --root "$ROOT"
    log "installed: rumqttd $(installed_version) in $ROOT"
}

cmd_version() {
    local v
    v="$(installed_version)" || die "rumqttd is not installed (run: $0 install)"
    [ -n "$v" ] || die "could not read the rumqttd version"
    echo "rumqttd $v"
}

cmd_start() {
    local port="${1:-}" dir conf
    check_port "$port" 65534
    [ -x "$BIN" ] || die "rumqttd is not installed (run: $0 install)"
    dir="$(make_run_dir)"
    conf="$dir/rumqttd.toml"
    cat >"$conf" <<EOF
# written by ci/brokers/rumqttd.sh for mqttspec (rumqttd ${RUMQTTD_VERSION})
id = 0

[router]
id = 0
max_connections = 10010
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10

# MQTT 3.1.1
[v4.1]
name = "v4-1"
listen = "127.0.0.1:${port}"
next_connection_delay_ms = 0
    [v4.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 268435455
    max_inflight_count = 500
    dynamic_filters = true

# MQTT 5.0
[v5.1]
name = "v5-1"
listen = "127.0.0.1:$((port + 1))"
next_connection_delay_ms = 0
    [v5.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 268435455
    max_inflight_count = 500
    dynamic_filters = true
EOF
    # rumqttd logs (tracing) go to stdout: send them to stderr with the rest.
    exec "$BIN" --quiet -c "$conf" 1>&2
}

case "${1:-}" in
    install) cmd_install ;;
    start) shift; cmd_start "$@" ;;
    version) cmd_version ;;
    *) usage ;;
esac
