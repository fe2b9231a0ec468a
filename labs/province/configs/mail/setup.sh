#!/bin/sh
# mail: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip link set eth2 up
ip addr add 10.10.20.11/24 dev eth1
ip addr add 10.10.30.11/24 dev eth2
ip route add default via 10.10.20.1
