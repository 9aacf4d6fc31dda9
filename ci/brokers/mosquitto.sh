#!/usr/bin/env bash
# Eclipse Mosquitto (Debian/Ubuntu package) for mqttspec runs.
#
#   mosquitto.sh install      apt-get install -y mosquitto (sudo when not root;
#                             apt-get update only when the first try fails)
#   mosquitto.sh start PORT [WS_PORT]
#                             mosquitto in the foreground on 127.0.0.1:PORT,
#                             MQTT 3.1, 3.1.1 and 5.0 on that one listener;
#                             with WS_PORT also MQTT over WebSocket on
#                             127.0.0.1:WS_PORT (Debian's build has
#                             libwebsockets built in)
#   mosquitto.sh version      prints e.g. "mosquitto 2.0.11"
#
# Settings: anonymous access, no persistence, retained messages on, QoS 2 on,
# zero-length client ids allowed, no packet size limit, no connection limit.
# The config file goes to a fresh folder under ${TMPDIR:-/tmp}.
#
# Note: on hosts with systemd (e.g. GitHub's Ubuntu runners) the Debian
# package also starts a system mosquitto on 127.0.0.1:1883; pick another port
# or `sudo systemctl stop mosquitto` first.
set -euo pipefail

BROKER_NAME=mosquitto
# shellcheck source=ci/brokers/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

mosquitto_bin() {
    if command -v mosquitto >/dev/null 2>&1; then
        command -v mosquitto
    elif [ -x /usr/sbin/mosquitto ]; then
        echo /usr/sbin/mosquitto
    else
        return 1
    fi
}

cmd_install() {
    if mosquitto_bin >/dev/null; then
        log "already installed: $(cmd_version)"
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install mosquitto by hand"
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y mosquitto; then
        log "install failed; running apt-get update and retrying"
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y mosquitto
    fi
    mosquitto_bin >/dev/null || die "mosquitto still not found after install"
    log "installed: $(cmd_version)"
}

cmd_version() {
    local bin v
    bin="$(mosquitto_bin)" || die "mosquitto is not installed (run: $0 install)"
    # `mosquitto -h` prints "mosquitto version X.Y.Z" and exits non-zero.
    v="$("$bin" -h 2>&1 | sed -n 's/^mosquitto version \([^ ]*\).*/\1/p' | head -n1 || true)"
    [ -n "$v" ] || die "could not read the mosquitto version"
    echo "mosquitto $v"
}

cmd_start() {
    local port="${1:-}" ws_port="${2:-}" bin dir conf
    check_port "$port"
    if [ -n "$ws_port" ]; then
        check_port "$ws_port"
        [ "$ws_port" != "$port" ] || die "WS_PORT must differ from PORT"
    fi
    bin="$(mosquitto_bin)" || die "mosquitto is not installed (run: $0 install)"
    dir="$(make_run_dir)"
    conf="$dir/mosquitto.conf"
    cat >"$conf" <<EOF
# written by ci/brokers/mosquitto.sh for mqttspec
per_listener_settings false
listener ${port} 127.0.0.1
protocol mqtt
allow_anonymous true
persistence false
allow_zero_length_clientid true
retain_available true
max_qos 2
max_keepalive 65535
max_connections -1
max_queued_messages 10000
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
log_type notice
connection_messages false
EOF
    # A websockets listener alone does not count as a listening socket in
    # mosquitto 2.0.11, so it always comes beside the MQTT one.
    if [ -n "$ws_port" ]; then
        printf 'listener %s 127.0.0.1\nprotocol websockets\n' "$ws_port" >>"$conf"
    fi
    # mosquitto drops root privileges to user "mosquitto" after reading the
    # config; the folder must stay readable for a SIGHUP reload.
    chmod 755 "$dir"
    chmod 644 "$conf"
    exec "$bin" -c "$conf"
}

case "${1:-}" in
    install) cmd_install ;;
    start) shift; cmd_start "$@" ;;
    version) cmd_version ;;
    *) usage ;;
esac
