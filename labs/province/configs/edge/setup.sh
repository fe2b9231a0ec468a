#!/bin/sh
# edge: start-up addressing (rendered from the topology)
set -e
ip link set lo up
ip link set eth1 up
ip link set eth2 up
ip link set eth3 up
ip addr add 10.0.0.31/32 dev lo
ip addr add 10.255.0.23/31 dev eth1
ip addr add 10.255.0.25/31 dev eth2
ip addr add 100.64.0.0/31 dev eth3
sysctl -qw net.ipv4.ip_forward=1
nft -f - <<'EOF'
table ip simpul_nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "eth3" ip saddr 10.0.0.0/8 ip daddr != 10.0.0.0/8 masquerade
  }
}
EOF
