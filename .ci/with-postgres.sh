#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server: TEST_POSTGRES_URL names it while the command
# runs, and the server and its data are removed afterwards, whatever happens.
#   bash .ci/with-postgres.sh npm test
set -uo pipefail
source "$(dirname "$0")/postgres.sh"
trap postgres_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
postgres_start || exit 1
"$@"
