#!/usr/bin/env bash
# paho-mqtt 2.x (Python, PyPI) as a client under test.
#
#   paho-python.sh install   python3 -m venv $MQTTSPEC_CLIENTS_DIR/paho-python/venv
#                            + pip install paho-mqtt==2.2.0
#   paho-python.sh command   the adapter command line (ends with {host} {port})
#   paho-python.sh version   prints e.g. "paho-mqtt 2.2.0"
#
# The adapter, paho-python.py, is one file that needs only paho-mqtt 2.x
# importable: any Python environment that has the library can run it.
# PYTHON (default python3) selects the interpreter that makes the venv.
set -euo pipefail

CLIENT_NAME=paho-mqtt
PAHO_VERSION=2.2.0
# shellcheck source=ci/clients/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

VENV="$CLIENTS_DIR/paho-python/venv"

installed_version() {
    [ -x "$VENV/bin/python" ] || return 1
    "$VENV/bin/python" -c 'import paho.mqtt; print(paho.mqtt.__version__)' 2>/dev/null
}

case "${1:-}" in
    install)
        if [ "$(installed_version || true)" = "$PAHO_VERSION" ]; then
            log "already installed: paho-mqtt $PAHO_VERSION in $VENV"
            exit 0
        fi
        py="${PYTHON:-python3}"
        command -v "$py" >/dev/null 2>&1 || die "$py not found"
        mkdir -p "$(dirname -- "$VENV")"
        [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV" ||
            die "python3 -m venv failed (Debian/Ubuntu: apt-get install -y python3-venv)"
        "$VENV/bin/python" -m pip install --disable-pip-version-check -q "paho-mqtt==$PAHO_VERSION"
        log "installed: paho-mqtt $(installed_version) in $VENV"
        ;;
    command)
        installed_version >/dev/null || die "paho-mqtt is not installed (run: $0 install)"
        echo "$VENV/bin/python $HERE/paho-python.py {host} {port}"
        ;;
    version)
        v="$(installed_version)" || die "paho-mqtt is not installed (run: $0 install)"
        echo "paho-mqtt $v"
        ;;
    *) usage ;;
esac
