#!/bin/sh
# dist-a: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip link set eth2 up
ip link set eth3 up
ip addr add 10.0.0.11/32 dev lo
ip addr add 10.255.0.3/31 dev eth1
ip addr add 10.255.0.5/31 dev eth2
ip addr add 10.255.0.26/31 dev eth3
sysctl -qw net.ipv4.ip_forward=1
