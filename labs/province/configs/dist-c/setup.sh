#!/bin/sh
# dist-c: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip link set eth2 up
ip link set eth3 up
ip addr add 10.0.0.13/32 dev lo
ip addr add 10.255.0.11/31 dev eth1
ip addr add 10.255.0.13/31 dev eth2
ip addr add 10.255.0.30/31 dev eth3
sysctl -qw net.ipv4.ip_forward=1
