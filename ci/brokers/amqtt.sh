#!/usr/bin/env bash
# amqtt (Python asyncio broker, formerly hbmqtt; PyPI) for mqttspec runs.
# Speaks MQTT 3.1.1 only: run mqttspec with --protocol 3.1.1.
# Known gap in 0.12.1: keep-alive is not enforced (a silent client is never
# disconnected), and no config option turns it on.
#
#   amqtt.sh install      python3 -m venv $MQTTSPEC_BROKERS_DIR/amqtt/venv
#                         + pip install amqtt==0.12.1
#   amqtt.sh start PORT   amqtt in the foreground on 127.0.0.1:PORT
#   amqtt.sh version      prints e.g. "amqtt 0.12.1"
#
# Settings: anonymous access (AnonymousAuthPlugin), no persistence plugin,
# no $SYS plugin, no packet/event logging plugins, unlimited connections.
# The YAML config goes to a fresh folder under ${TMPDIR:-/tmp}.
# PYTHON (default python3) selects the interpreter that makes the venv.
set -euo pipefail

BROKER_NAME=amqtt
AMQTT_VERSION=0.12.1
# shellcheck source=ci/brokers/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

VENV="$BROKERS_DIR/amqtt/venv"

installed_version() {
    [ -x "$VENV/bin/python" ] || return 1
    "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("amqtt"))' 2>/dev/null
}

cmd_install() {
    local py="${PYTHON:-python3}"
    if [ "$(installed_version || true)" = "$AMQTT_VERSION" ] && [ -x "$VENV/bin/amqtt" ]; then
        log "already installed: amqtt $AMQTT_VERSION in $VENV"
        return 0
    fi
    command -v "$py" >/dev/null 2>&1 || die "$py not found"
    mkdir -p "$(dirname -- "$VENV")"
    [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV" ||
        die "python3 -m venv failed (Debian/Ubuntu: apt-get install -y python3-venv)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q "amqtt==$AMQTT_VERSION"
    log "installed: amqtt $(installed_version) in $VENV"
}

cmd_version() {
    local v
    v="$(installed_version)" || die "amqtt is not installed (run: $0 install)"
    echo "amqtt $v"
}

cmd_start() {
    local port="${1:-}" dir conf
    check_port "$port"
    [ -x "$VENV/bin/amqtt" ] || die "amqtt is not installed (run: $0 install)"
    dir="$(make_run_dir)"
    conf="$dir/amqtt.yaml"
    cat >"$conf" <<EOF
# written by ci/brokers/amqtt.sh for mqttspec
listeners:
  default:
    type: tcp
    bind: 127.0.0.1:${port}
    max_connections: 0
plugins:
  amqtt.plugins.authentication.AnonymousAuthPlugin:
    allow_anonymous: true
EOF
    export PYTHONUNBUFFERED=1
    exec "$VENV/bin/amqtt" -c "$conf"
}

case "${1:-}" in
    install) cmd_install ;;
    start) shift; cmd_start "$@" ;;
    version) cmd_version ;;
    *) usage ;;
esac
