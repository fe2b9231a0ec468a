#!/usr/bin/env bash
# The whole test suite from a fresh clone: venv, packages, lint, then every test.
# Unit tests need only Python; integration tests start PostgreSQL, the lab, etc. themselves.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

ensure_python
ensure_system_packages
cd "$ROOT"
log "ruff"
"$VENV/bin/ruff" check .
log "pytest"
set +e
"$VENV/bin/python" -m pytest "$@"
status=$?
set -e
if [ $status -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit $status
