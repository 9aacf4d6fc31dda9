#!/usr/bin/env bash
# ejabberd's MQTT broker (mod_mqtt; Debian package) for mqttspec runs.
# Speaks MQTT 3.1.1 and 5.0 on one listener.
#
#   ejabberd.sh install      apt-get install -y ejabberd, with a policy-rc.d
#                            that keeps the package from starting its own
#                            service (on :: with ports 5222, 5269, 5280,
#                            5443 and 1883) during the install
#   ejabberd.sh start PORT   ejabberd in the foreground with one listener,
#                            mod_mqtt on 127.0.0.1:PORT
#   ejabberd.sh version      prints e.g. "ejabberd 23.01"
#
# ejabberd runs as a plain `erl -s ejabberd` without a node name, so there
# is no epmd and no distribution port, and a SIGTERM to this process stops
# everything (ejabberdctl would start beam under su, out of reach of the
# signal). Settings: anonymous logins, a fresh spool and log folder per
# start (retained messages are kept on disk), listen backlog 1024, topic
# depth 64, 100 topic aliases, sessions up to an hour.
#
# Debian's 23.01 refuses anonymous MQTT logins without a password (an
# upstream bug of 22.05 to 23.01): clients must send a user name that is a
# plain XMPP local part and a non-empty password, any of them. The harness
# uses the credentials printed by `ejabberd.sh credentials`.
set -euo pipefail

BROKER_NAME=ejabberd
# shellcheck source=ci/brokers/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# The folder holding ejabberd-<version>/ (Erlang's code path for ERL_LIBS).
ejabberd_libs() {
    local d
    for d in /usr/lib/*/ejabberd-[0-9]* /usr/lib/ejabberd-[0-9]*; do
        [ -d "$d/ebin" ] && { dirname -- "$d"; return 0; }
    done
    return 1
}

cmd_version() {
    local libs d v
    libs="$(ejabberd_libs)" || die "ejabberd is not installed (run: $0 install)"
    command -v erl >/dev/null 2>&1 || die "erl not found"
    d="$(ls -d "$libs"/ejabberd-[0-9]* | head -n1)"
    v="${d##*/ejabberd-}"
    # Debian's folder may carry the package revision ("23.01-1").
    v="${v%%-*}"
    [ -n "$v" ] || die "could not read the ejabberd version"
    echo "ejabberd $v"
}

cmd_install() {
    if ejabberd_libs >/dev/null && command -v erl >/dev/null 2>&1; then
        log "already installed: $(cmd_version)"
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install ejabberd by hand"
    local prc=/usr/sbin/policy-rc.d saved=""
    if [ -e "$prc" ]; then
        saved="$(mktemp)"
        as_root cp -p "$prc" "$saved"
    fi
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$prc" >/dev/null
    as_root chmod 755 "$prc"
    local rc=0
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y ejabberd; then
        log "install failed; running apt-get update and retrying"
        as_root apt-get update && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y ejabberd || rc=$?
    fi
    if [ -n "$saved" ]; then
        as_root cp -p "$saved" "$prc"
        rm -f "$saved"
    else
        as_root rm -f "$prc"
    fi
    [ "$rc" -eq 0 ] || die "apt-get install ejabberd failed"
    ejabberd_libs >/dev/null || die "ejabberd still not found after install"
    log "installed: $(cmd_version)"
}

cmd_credentials() {
    # Any local part and any non-empty password log in anonymously.
    echo "username: mqttspec"
    echo "password: mqttspec"
}

cmd_start() {
    local port="${1:-}" libs dir
    check_port "$port"
    libs="$(ejabberd_libs)" || die "ejabberd is not installed (run: $0 install)"
    command -v erl >/dev/null 2>&1 || die "erl not found"
    dir="$(make_run_dir)"
    mkdir -p "$dir/spool" "$dir/logs"
    cat >"$dir/ejabberd.yml" <<EOF
# written by ci/brokers/ejabberd.sh for mqttspec
hosts:
  - localhost
loglevel: warning
auth_method: [anonymous]
anonymous_protocol: login_anon
acme:
  auto: false
listen:
  -
    port: ${port}
    ip: 127.0.0.1
    module: mod_mqtt
    backlog: 1024
modules:
  mod_mqtt:
    session_expiry: 3600
    max_queue: 10000
    max_topic_depth: 64
    max_topic_aliases: 100
EOF
    # Name lookups from a file only: localhost is 127.0.0.1.
    cat >"$dir/inetrc" <<'EOF'
{lookup, [file]}.
{host, {127,0,0,1}, ["localhost"]}.
EOF
    cd "$dir"
    export ERL_LIBS="$libs"
    export EJABBERD_CONFIG_PATH="$dir/ejabberd.yml"
    export EJABBERD_LOG_PATH="$dir/logs/ejabberd.log"
    export ERL_INETRC="$dir/inetrc"
    export HOME="$dir"
    exec erl -noinput -noshell -mnesia dir "\"$dir/spool\"" -s ejabberd
}

case "${1:-}" in
    install) cmd_install ;;
    start) shift; cmd_start "$@" ;;
    version) cmd_version ;;
    credentials) cmd_credentials ;;
    *) usage ;;
esac
