#!/usr/bin/env bash
# Run the test suite (installs what it needs first). Uses REDIS_URL / TEST_DATABASE_URL when set,
# otherwise an embedded Redis and SQLite. Extra arguments go to pytest.
set -euo pipefail
. "$(dirname "$0")/bootstrap.sh"
exec python -m pytest "$@"
