#!/bin/sh
# core1: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip link set eth2 up
ip link set eth3 up
ip link set eth4 up
ip link set eth5 up
ip link set eth6 up
ip link set eth7 up
ip addr add 10.0.0.1/32 dev lo
ip addr add 10.255.0.0/31 dev eth1
ip addr add 10.255.0.2/31 dev eth2
ip addr add 10.255.0.6/31 dev eth3
ip addr add 10.255.0.10/31 dev eth4
ip addr add 10.255.0.14/31 dev eth5
ip addr add 10.255.0.18/31 dev eth6
ip addr add 10.255.0.22/31 dev eth7
sysctl -qw net.ipv4.ip_forward=1
