#!/bin/sh
# dc-sw: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip link set eth2 up
ip link set eth3 up
ip link set eth4 up
ip link set eth5 up
ip link set eth6 up
ip link set eth7 up
ip link set eth8 up
ip link set eth9 up
ip addr add 10.0.0.15/32 dev lo
ip link add br-int type bridge
ip link set eth3 master br-int
ip link set eth4 master br-int
ip link set eth5 master br-int
ip link set br-int up
ip link add br-mgmt type bridge
ip link set eth6 master br-mgmt
ip link set eth7 master br-mgmt
ip link set eth8 master br-mgmt
ip link set eth9 master br-mgmt
ip link set br-mgmt up
ip addr add 10.10.20.1/24 dev br-int
ip addr add 10.10.30.1/24 dev br-mgmt
ip addr add 10.255.0.19/31 dev eth1
ip addr add 10.255.0.21/31 dev eth2
sysctl -qw net.ipv4.ip_forward=1
