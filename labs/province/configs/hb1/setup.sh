#!/bin/sh
# hb1: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip addr add 10.2.10.10/24 dev eth1
ip route add default via 10.2.10.1
