#!/usr/bin/env bash
# Installs check-jsonschema (PyPI) into a virtual environment, for the
# offline schema validation of the CI templates (ci/validate-templates.sh).
# Prints the path of the installed command.
#   CHECK_JSONSCHEMA_VENV  where the environment goes
#                          (default: $HOME/.cache/mqttspec-check-jsonschema)
set -euo pipefail
venv="${CHECK_JSONSCHEMA_VENV:-$HOME/.cache/mqttspec-check-jsonschema}"
bin="$venv/bin/check-jsonschema"
if [ ! -x "$bin" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet "check-jsonschema>=0.29,<1" >&2
fi
"$bin" --version >&2
echo "$bin"
