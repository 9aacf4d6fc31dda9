#!/usr/bin/env bash
# Aedes (Node.js, npm) for mqttspec runs. Speaks MQTT 3.1 and 3.1.1 only:
# it refuses MQTT 5.0 CONNECTs, so run mqttspec with --protocol 3.1.1.
#
#   aedes.sh install      npm install aedes@1.2.0 into $MQTTSPEC_BROKERS_DIR/aedes
#                         and write the server module server.mjs there (needs node >= 20)
#   aedes.sh start PORT   the server in the foreground on 127.0.0.1:PORT
#   aedes.sh version      prints e.g. "aedes 1.2.0"
#
# Settings: in-memory persistence (nothing on disk), anonymous access,
# retained messages and QoS 2 as built in, no keep-alive limit, a larger
# pre-connect queue (queueLimit 1000 instead of 42).
set -euo pipefail

BROKER_NAME=aedes
AEDES_VERSION=1.2.0
# shellcheck source=ci/brokers/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

AEDES_DIR="$BROKERS_DIR/aedes"

installed_version() {
    local pkg="$AEDES_DIR/node_modules/aedes/package.json"
    [ -f "$pkg" ] || return 1
    node -e 'process.stdout.write(require(process.argv[1]).version)' "$pkg"
}

write_server() {
    cat >"$AEDES_DIR/server.mjs.tmp" <<'EOF'
// written by ci/brokers/aedes.sh for mqttspec: node server.mjs PORT
import net from 'node:net'
import { Aedes } from 'aedes'

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node server.mjs PORT')
  process.exit(2)
}
const broker = await Aedes.createBroker({
  queueLimit: 1000, // messages queued while a client's CONNECT is processed (default 42)
  keepaliveLimit: 0 // accept any keep alive, including 0
})
const server = net.createServer(broker.handle)
server.on('error', (err) => {
  console.error(`aedes: ${err.message}`)
  process.exit(1)
})
server.listen(port, '127.0.0.1', () => {
  console.error(`aedes ${broker.version} listening on 127.0.0.1:${port}`)
})
const stop = () => process.exit(0)
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
EOF
    mv -f "$AEDES_DIR/server.mjs.tmp" "$AEDES_DIR/server.mjs"
}

cmd_install() {
    command -v node >/dev/null 2>&1 || die "node not found (need Node.js >= 20)"
    command -v npm >/dev/null 2>&1 || die "npm not found"
    mkdir -p "$AEDES_DIR"
    if [ "$(installed_version 2>/dev/null || true)" = "$AEDES_VERSION" ]; then
        log "already installed: aedes $AEDES_VERSION in $AEDES_DIR"
    else
        [ -f "$AEDES_DIR/package.json" ] ||
            printf '{ "name": "mqttspec-aedes", "private": true, "type": "module" }\n' >"$AEDES_DIR/package.json"
        (cd "$AEDES_DIR" && npm install --no-audit --no-fund --save-exact "aedes@$AEDES_VERSION")
        log "installed: aedes $(installed_version) in $AEDES_DIR"
    fi
    write_server
}

cmd_version() {
    local v
    v="$(installed_version)" || die "aedes is not installed (run: $0 install)"
    echo "aedes $v"
}

cmd_start() {
    local port="${1:-}"
    check_port "$port"
    installed_version >/dev/null || die "aedes is not installed (run: $0 install)"
    [ -f "$AEDES_DIR/server.mjs" ] || write_server
    exec node "$AEDES_DIR/server.mjs" "$port"
}

case "${1:-}" in
    install) cmd_install ;;
    start) shift; cmd_start "$@" ;;
    version) cmd_version ;;
    *) usage ;;
esac
