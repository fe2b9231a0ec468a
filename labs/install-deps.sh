#!/usr/bin/env bash
# Install the Debian packages the simpul lab needs (network-namespace backend).
#
# Safe to run repeatedly: it checks with dpkg-query first and does nothing when every
# package is already installed. Package installation must not start the packages'
# services in the root namespace (frr, snmpd, nginx, freeradius, ssh, ...), so a
# temporary /usr/sbin/policy-rc.d that refuses every start is in place during the
# install and removed afterwards (only when this script created it). The lab never
# uses or stops the host's own services.
set -euo pipefail

PACKAGES=(
    iproute2 procps psmisc iputils-ping socat curl tcpdump nftables
    frr
    snmpd snmp
    openssh-server openssh-client
    rsyslog
    lldpd
    strongswan-charon strongswan-swanctl libstrongswan-standard-plugins
    wireguard-go wireguard-tools
    softflowd
    nginx-light
    iperf3
    python3-aiosmtpd
    tinyproxy
    freeradius freeradius-utils freeradius-rest eapoltest
    hostapd wpasupplicant
    sudo libcharon-extra-plugins
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    [[ "$status" == ii* ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "lab packages: all ${#PACKAGES[@]} installed"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "lab packages missing (${missing[*]}); run labs/install-deps.sh as root" >&2
    exit 1
fi

echo "lab packages: installing ${missing[*]}"

policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# simpul lab install: do not start services\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    created_policy=1
fi
cleanup() {
    if [[ $created_policy -eq 1 ]]; then rm -f "$policy"; fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt_install() {
    # Another apt/dpkg may hold the lock: wait for it (bounded) instead of failing.
    local tries=0
    until apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"; do
        tries=$((tries + 1))
        if [[ $tries -ge 2 ]]; then return 1; fi
        apt-get -o DPkg::Lock::Timeout=300 update
    done
}
apt_install "${missing[@]}"
echo "lab packages: done"
