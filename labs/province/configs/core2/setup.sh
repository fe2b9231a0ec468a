#!/bin/sh
# core2: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip link set eth2 up
ip link set eth3 up
ip link set eth4 up
ip link set eth5 up
ip link set eth6 up
ip link set eth7 up
ip addr add 10.0.0.2/32 dev lo
ip addr add 10.255.0.1/31 dev eth1
ip addr add 10.255.0.4/31 dev eth2
ip addr add 10.255.0.8/31 dev eth3
ip addr add 10.255.0.12/31 dev eth4
ip addr add 10.255.0.16/31 dev eth5
ip addr add 10.255.0.20/31 dev eth6
ip addr add 10.255.0.24/31 dev eth7
sysctl -qw net.ipv4.ip_forward=1
