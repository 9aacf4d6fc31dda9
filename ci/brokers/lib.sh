# shellcheck shell=bash
# Shared helpers for ci/brokers/*.sh. Sourced, never executed.
#
# Environment:
#   MQTTSPEC_BROKERS_DIR  cache folder for installed brokers
#                         (default: $HOME/.cache/mqttspec-brokers)
#   TMPDIR                where per-run config folders go (default: /tmp)

BROKERS_DIR="${MQTTSPEC_BROKERS_DIR:-$HOME/.cache/mqttspec-brokers}"

log() { printf '%s: %s\n' "${BROKER_NAME:-broker}" "$*" >&2; }
die() { log "error: $*"; exit 2; }

usage() {
    cat >&2 <<EOF
usage: $0 install | start PORT | version
  install      install ${BROKER_NAME} (idempotent) under ${BROKERS_DIR}
  start PORT   run ${BROKER_NAME} in the foreground on 127.0.0.1:PORT
  version      print "${BROKER_NAME} <version>"
EOF
    exit 2
}

# check_port PORT [MAX]: PORT must be a decimal TCP port number no larger than MAX.
check_port() {
    local port="$1" max="${2:-65535}"
    case "$port" in
        '' | *[!0-9]*) die "PORT must be a number, got '${port}'" ;;
    esac
    if [ "$port" -lt 1 ] || [ "$port" -gt "$max" ]; then
        die "PORT must be in 1..${max}, got ${port}"
    fi
}

# as_root CMD...: run CMD as root, through sudo when we are not root.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

# make_run_dir: create a fresh private folder for this run's config files and
# print its path. The broker is exec'ed afterwards, so nothing can delete the
# folder when it exits; instead each folder records the PID that owns it and
# folders of dead owners are swept on the next start.
make_run_dir() {
    local base="${TMPDIR:-/tmp}" d owner
    for d in "$base"/mqttspec-"${BROKER_NAME}".*; do
        [ -d "$d" ] || continue
        [ -O "$d" ] || continue
        owner="$(cat "$d/owner.pid" 2>/dev/null || true)"
        case "$owner" in '' | *[!0-9]*) continue ;; esac
        kill -0 "$owner" 2>/dev/null || rm -rf -- "$d"
    done
    d="$(mktemp -d "$base/mqttspec-${BROKER_NAME}.XXXXXX")" || die "mktemp failed"
    # $$ survives the later exec, so this is the broker's own PID.
    echo "$$" >"$d/owner.pid"
    printf '%s\n' "$d"
}
