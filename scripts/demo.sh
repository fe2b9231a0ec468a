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
    # The lab's nodes send syslog, NetFlow and traps to the management gateway; listen
    # there, and poll and log in with the lab's own (lab-only) credentials.
    export SIMPUL_SYSLOG_HOST="${SIMPUL_SYSLOG_HOST:-172.20.20.1}"
    export SIMPUL_FLOW_HOSTS="${SIMPUL_FLOW_HOSTS:-127.0.0.1,172.20.20.1}"
    export SIMPUL_TRAP_HOSTS="${SIMPUL_TRAP_HOSTS:-127.0.0.1,172.20.20.1}"
    export SIMPUL_TRAP_COMMUNITIES="${SIMPUL_TRAP_COMMUNITIES:-simpul-lab}"
    export SIMPUL_SNMP_COMMUNITY="${SIMPUL_SNMP_COMMUNITY:-simpul-lab}"
    export SIMPUL_DEVICE_SNMP_COMMUNITY="${SIMPUL_DEVICE_SNMP_COMMUNITY:-simpul-lab}"
    export SIMPUL_DEVICE_USERNAME="${SIMPUL_DEVICE_USERNAME:-simpul}"
    export SIMPUL_DEVICE_PASSWORD="${SIMPUL_DEVICE_PASSWORD:-simpul-lab}"
  else
    log "the lab did not come up; continuing without it"
  fi
fi
if [ $lab_started -eq 0 ]; then
  # Without the lab nothing answers the demo's probes and nothing needs polling: keep
  # simpul from sending probes or SNMP anywhere.
  export SIMPUL_PROBES_ENABLED="${SIMPUL_PROBES_ENABLED:-off}"
  export SIMPUL_SNMP_ENABLED="${SIMPUL_SNMP_ENABLED:-off}"
fi
cleanup() { if [ $lab_started -eq 1 ]; then log "taking the lab down"; "$SIMPUL" lab down || true; fi; }
trap cleanup EXIT

log "starting simpul (the URL follows; sign in with the admin password above)"
"$SIMPUL" up "$@"
