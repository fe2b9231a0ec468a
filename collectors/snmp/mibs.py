"""The OIDs simpul polls, as numeric tuples (no MIB files are loaded at run time).

Loading MIB modules costs seconds and memory per process and resolving names per
varbind costs CPU on every poll; numeric OIDs avoid both. Names follow the MIBs so a
reader can check them against IF-MIB, HOST-RESOURCES-MIB, UCD-SNMP-MIB and LLDP-MIB.
"""

from __future__ import annotations

OID = tuple[int, ...]


def oid(text: str) -> OID:
    """Return the tuple form of a dotted OID."""
    return tuple(int(part) for part in text.strip(".").split("."))


# SNMPv2-MIB system group (scalars, .0 instances)
SYS_DESCR = oid("1.3.6.1.2.1.1.1.0")
SYS_UPTIME = oid("1.3.6.1.2.1.1.3.0")
SYS_NAME = oid("1.3.6.1.2.1.1.5.0")

# IF-MIB scalars that change when interfaces are added or removed
IF_NUMBER = oid("1.3.6.1.2.1.2.1.0")
IF_TABLE_LAST_CHANGE = oid("1.3.6.1.2.1.31.1.5.0")

# Read at the start of every poll (one GET).
SYSTEM_SCALARS = (SYS_UPTIME, SYS_NAME, SYS_DESCR, IF_NUMBER, IF_TABLE_LAST_CHANGE)

# IF-MIB ifTable / ifXTable columns
IF_DESCR = oid("1.3.6.1.2.1.2.2.1.2")
IF_TYPE = oid("1.3.6.1.2.1.2.2.1.3")
IF_SPEED = oid("1.3.6.1.2.1.2.2.1.5")
IF_ADMIN_STATUS = oid("1.3.6.1.2.1.2.2.1.7")
IF_OPER_STATUS = oid("1.3.6.1.2.1.2.2.1.8")
IF_IN_OCTETS = oid("1.3.6.1.2.1.2.2.1.10")
IF_IN_DISCARDS = oid("1.3.6.1.2.1.2.2.1.13")
IF_IN_ERRORS = oid("1.3.6.1.2.1.2.2.1.14")
IF_OUT_OCTETS = oid("1.3.6.1.2.1.2.2.1.16")
IF_OUT_DISCARDS = oid("1.3.6.1.2.1.2.2.1.19")
IF_OUT_ERRORS = oid("1.3.6.1.2.1.2.2.1.20")
IF_NAME = oid("1.3.6.1.2.1.31.1.1.1.1")
IF_HC_IN_OCTETS = oid("1.3.6.1.2.1.31.1.1.1.6")
IF_HC_OUT_OCTETS = oid("1.3.6.1.2.1.31.1.1.1.10")
IF_HIGH_SPEED = oid("1.3.6.1.2.1.31.1.1.1.15")
IF_ALIAS = oid("1.3.6.1.2.1.31.1.1.1.18")

# What an interface is: read on the first poll and at each static refresh
# (collectors/snmp/statics.py), not every cycle (as LibreNMS and Cacti do).
IF_STATIC_COLUMNS = (IF_DESCR, IF_NAME, IF_ALIAS, IF_TYPE, IF_SPEED, IF_HIGH_SPEED)
# What it is doing: read every cycle (8 columns x 25 repetitions = 200 varbinds a response).
IF_COUNTER_COLUMNS = (IF_ADMIN_STATUS, IF_OPER_STATUS, IF_IN_DISCARDS, IF_IN_ERRORS,
                      IF_OUT_DISCARDS, IF_OUT_ERRORS, IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS)
IF_COLUMNS_32 = (IF_IN_OCTETS, IF_OUT_OCTETS)

IF_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent",
             7: "lowerLayerDown"}

# HOST-RESOURCES-MIB
HR_PROCESSOR_LOAD = oid("1.3.6.1.2.1.25.3.3.1.2")
HR_STORAGE_TYPE = oid("1.3.6.1.2.1.25.2.3.1.2")
HR_STORAGE_DESCR = oid("1.3.6.1.2.1.25.2.3.1.3")
HR_STORAGE_UNITS = oid("1.3.6.1.2.1.25.2.3.1.4")
HR_STORAGE_SIZE = oid("1.3.6.1.2.1.25.2.3.1.5")
HR_STORAGE_USED = oid("1.3.6.1.2.1.25.2.3.1.6")
# Static (refreshed with the interface names) and per-cycle columns of hrStorageTable.
HR_STORAGE_STATIC_COLUMNS = (HR_STORAGE_TYPE, HR_STORAGE_DESCR, HR_STORAGE_UNITS)
HR_STORAGE_DYNAMIC_COLUMNS = (HR_STORAGE_SIZE, HR_STORAGE_USED)
HR_STORAGE_KINDS = {
    oid("1.3.6.1.2.1.25.2.1.2"): "ram",
    oid("1.3.6.1.2.1.25.2.1.3"): "virtual",
    oid("1.3.6.1.2.1.25.2.1.4"): "disk",
    oid("1.3.6.1.2.1.25.2.1.5"): "removable",
    oid("1.3.6.1.2.1.25.2.1.9"): "flash",
    oid("1.3.6.1.2.1.25.2.1.10"): "network",
}

# UCD-SNMP-MIB (net-snmp): memory in kB, CPU idle %, load averages, disks
UCD_MEM_TOTAL_REAL = oid("1.3.6.1.4.1.2021.4.5.0")
UCD_MEM_AVAIL_REAL = oid("1.3.6.1.4.1.2021.4.6.0")
UCD_MEM_BUFFER = oid("1.3.6.1.4.1.2021.4.14.0")
UCD_MEM_CACHED = oid("1.3.6.1.4.1.2021.4.15.0")
UCD_SS_CPU_IDLE = oid("1.3.6.1.4.1.2021.11.11.0")
UCD_LOAD1 = oid("1.3.6.1.4.1.2021.10.1.3.1")
UCD_SCALARS = (UCD_MEM_TOTAL_REAL, UCD_MEM_AVAIL_REAL, UCD_MEM_BUFFER, UCD_MEM_CACHED,
               UCD_SS_CPU_IDLE, UCD_LOAD1)
UCD_DSK_PERCENT = oid("1.3.6.1.4.1.2021.9.1.9")

# LLDP-MIB
LLDP_LOC_PORT_ID = oid("1.0.8802.1.1.2.1.3.7.1.3")
LLDP_LOC_PORT_DESC = oid("1.0.8802.1.1.2.1.3.7.1.4")
LLDP_REM_CHASSIS_ID = oid("1.0.8802.1.1.2.1.4.1.1.5")
LLDP_REM_PORT_ID = oid("1.0.8802.1.1.2.1.4.1.1.7")
LLDP_REM_PORT_DESC = oid("1.0.8802.1.1.2.1.4.1.1.8")
LLDP_REM_SYS_NAME = oid("1.0.8802.1.1.2.1.4.1.1.9")
