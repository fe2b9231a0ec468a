"""IPAM services: VRFs, VLANs, prefixes, addresses, ranges, allocation, utilisation."""
