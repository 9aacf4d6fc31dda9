# shellcheck shell=bash
# Shared helpers for ci/clients/*.sh. Sourced, never executed.
#
# Every script answers:
#   install   install the library and its adapter (idempotent) under CLIENTS_DIR
#   command   print the adapter command for `mqttspec run --client '...'`
#             (it ends with `{host} {port}`)
#   version   print "<library> <version>"
#
# Environment:
#   MQTTSPEC_CLIENTS_DIR  cache folder (default: $HOME/.cache/mqttspec-clients)

CLIENTS_DIR="${MQTTSPEC_CLIENTS_DIR:-$HOME/.cache/mqttspec-clients}"
HERE="$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '%s: %s\n' "${CLIENT_NAME:-client}" "$*" >&2; }
die() { log "error: $*"; exit 2; }

usage() {
    cat >&2 <<USAGE
usage: $0 install | command | version
  install   install ${CLIENT_NAME} and its adapter (idempotent) under ${CLIENTS_DIR}
  command   print the adapter command for mqttspec run --client
  version   print "${CLIENT_NAME} <version>"
USAGE
    exit 2
}
