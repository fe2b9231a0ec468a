#!/bin/sh
# rmt-r1: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip link set eth2 up
ip addr add 10.0.0.41/32 dev lo
ip addr add 100.64.0.2/31 dev eth1
ip addr add 10.60.10.1/24 dev eth2
sysctl -qw net.ipv4.ip_forward=1
