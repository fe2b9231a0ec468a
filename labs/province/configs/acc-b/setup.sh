#!/bin/sh
# acc-b: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip link set eth2 up
ip link set eth3 up
ip addr add 10.0.0.22/32 dev lo
ip link add br0 type bridge
ip link set eth2 master br0
ip link set eth3 master br0
ip link set br0 up
ip addr add 10.2.10.1/24 dev br0
ip addr add 10.255.0.29/31 dev eth1
sysctl -qw net.ipv4.ip_forward=1
