#!/usr/bin/env bash
# Set up and run simpul with demo data on embedded SQLite; as root, with the lab too.
# Ctrl-C stops everything it started (the web UI, background services and the lab).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

ensure_python
ensure_system_packages
cd "$ROOT"
export SIMPUL_DATA_DIR="${SIMPUL_DATA_DIR:-$ROOT/.simpul}"
SIMPUL="$VENV/bin/simpul"

log "database and demo data in $SIMPUL_DATA_DIR"
"$SIMPUL" db upgrade
"$SIMPUL" demo load

lab_started=0
if [ "$(id -u)" -eq 0 ] && "$SIMPUL" lab --help >/dev/null 2>&1 && [ "${SIMPUL_DEMO_LAB:-1}" = "1" ]; then
  log "bringing the lab up (SIMPUL_DEMO_LAB=0 skips it)"
  if "$SIMPUL" lab up; then
    lab_started=1
    # Point simpul at the lab: its devices, links and addresses into the inventory.
    "$SIMPUL" inventory import labs/province/province.clab.yml
    # The lab's nodes send syslog to the management gateway; listen there.
    export SIMPUL_SYSLOG_HOST="${SIMPUL_SYSLOG_HOST:-172.20.20.1}"
  else
    log "the lab did not come up; continuing without it"
  fi
fi
cleanup() { if [ $lab_started -eq 1 ]; then log "taking the lab down"; "$SIMPUL" lab down || true; fi; }
trap cleanup EXIT

log "starting simpul (the URL follows; sign in with the admin password above)"
"$SIMPUL" up "$@"
