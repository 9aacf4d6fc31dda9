#!/usr/bin/env bash
# Validates the CI surfaces offline against the schemas check-jsonschema
# ships: the composite action (action.yml) against GitHub's action schema,
# the workflow templates against GitHub's workflow schema, the GitLab
# template against GitLab's CI schema.
set -euo pipefail
cd "$(dirname "$0")/.."
cj="$(ci/install-check-jsonschema.sh)"
"$cj" --builtin-schema vendor.github-actions action.yml
"$cj" --builtin-schema vendor.github-workflows ci/github/*.yml
"$cj" --builtin-schema vendor.gitlab-ci ci/gitlab/*.yml
