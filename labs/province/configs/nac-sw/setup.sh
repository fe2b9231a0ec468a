#!/bin/sh
# nac-sw: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip link set eth2 up
ip addr add 10.0.0.25/32 dev lo
ip link add br-vlan10 type bridge
ip link set br-vlan10 up
ip addr add 10.50.10.1/24 dev br-vlan10
ip link add br-vlan20 type bridge
ip link set br-vlan20 up
ip addr add 10.50.20.1/24 dev br-vlan20
ip link add br-vlan99 type bridge
ip link set br-vlan99 up
ip addr add 10.50.99.1/24 dev br-vlan99
ip link set eth2 master br-vlan99
ip addr add 10.255.0.35/31 dev eth1
sysctl -qw net.ipv4.ip_forward=1
