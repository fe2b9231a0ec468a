#!/usr/bin/env bash
# Create .venv and install simpul with its dev extra; Debian packages too when root.
# Sourced by scripts/test.sh and scripts/demo.sh; safe to run again (it skips what is done).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_install() {
  # Install Debian packages that are missing; only as root, never interactive.
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "not root: cannot install ${missing[*]} (install them, or run as root)"
    return 1
  fi
  log "installing Debian packages: ${missing[*]}"
  # Packages must not start their system services: simpul runs its own copies.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1; fi
  local tries=0
  until DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; do
    tries=$((tries + 1))
    if [ $tries -ge 2 ]; then [ $created_policy -eq 1 ] && rm -f "$policy"; return 1; fi
    apt-get update -q
  done
  [ $created_policy -eq 1 ] && rm -f "$policy"
  return 0
}

ensure_python() {
  if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "simpul needs Python 3.11 or newer as '$PY' (set PYTHON=...)" >&2
    exit 1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtual environment in .venv"
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"
      apt_install python3-venv
      "$PY" -m venv "$VENV"
    fi
  fi
  local stamp="$VENV/.simpul-installed" want
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing simpul and its Python dependencies into .venv (log: .venv/pip.log)"
    # setuptools' editable-mode warnings are noise to a user; show the log only on failure.
    if ! { "$VENV/bin/python" -m pip install -q --upgrade pip &&
           "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]" \
             --config-settings editable_mode=compat; } > "$VENV/pip.log" 2>&1; then
      cat "$VENV/pip.log" >&2
      echo "pip install failed (see above)" >&2
      exit 1
    fi
    echo "$want" > "$stamp"
  fi
}

ensure_system_packages() {
  # PostgreSQL for the database tests (a throw-away cluster; the service is never used),
  # util-linux for setpriv, Chromium for the browser tests (Playwright drives Debian's
  # build; it never downloads one); the lab's own list lives in labs/install-deps.sh.
  [ "$(id -u)" -eq 0 ] || return 0
  apt_install postgresql util-linux procps iproute2 chromium fonts-dejavu-core \
    redis-server prometheus-snmp-exporter nfdump git sshpass
  if [ -x "$ROOT/labs/install-deps.sh" ]; then
    "$ROOT/labs/install-deps.sh"
  fi
}
