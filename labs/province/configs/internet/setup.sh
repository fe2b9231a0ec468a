#!/bin/sh
# internet: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip link set eth2 up
ip addr add 100.100.100.100/32 dev lo
ip addr add 100.64.0.1/31 dev eth1
ip addr add 100.64.0.3/31 dev eth2
sysctl -qw net.ipv4.ip_forward=1
