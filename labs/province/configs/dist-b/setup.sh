#!/bin/sh
# dist-b: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip link set eth2 up
ip link set eth3 up
ip link set eth4 up
ip addr add 10.0.0.12/32 dev lo
ip addr add 10.255.0.7/31 dev eth1
ip addr add 10.255.0.9/31 dev eth2
ip addr add 10.255.0.28/31 dev eth3
ip addr add 10.255.0.34/31 dev eth4
sysctl -qw net.ipv4.ip_forward=1
