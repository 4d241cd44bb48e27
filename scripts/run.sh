#!/usr/bin/env bash
# Run the helpline on embedded defaults: SQLite under instance/, an embedded Redis, gunicorn on :5000.
# Without TWILIO_AUTH_TOKEN this is a development run and signatures are NOT checked (it says so loudly).
set -euo pipefail
. "$(dirname "$0")/bootstrap.sh"
if [ -z "${TWILIO_AUTH_TOKEN:-}" ]; then
  export HELPLINE_DEV="${HELPLINE_DEV:-1}"
fi
exec helpline serve "$@"
