"""Test helpers for real FreeRADIUS: free ports, radclient, and a tiny timing RADIUS client.

radclient is the reference for what a NAS sees (assertions parse its printed reply);
``RadiusClient`` sends the same MAB Access-Request over one UDP socket so the decision
latency can be measured per request without a process start each time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import socket
import struct
import subprocess
from dataclasses import dataclass, field

CODES = {2: "Access-Accept", 3: "Access-Reject", 5: "Accounting-Response"}


def free_udp_port() -> int:
    """A UDP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_tcp_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Reply:
    """What radclient printed: the packet type and the reply attributes."""

    code: str
    attrs: dict[str, str] = field(default_factory=dict)
    raw: str = ""


def radclient(port: int, secret: str, attrs: dict[str, str], kind: str = "auth",
              timeout: float = 5.0) -> Reply:
    """Send one request with radclient -x and parse the reply it prints."""
    line = ",".join(f"{k}={v}" for k, v in attrs.items())
    proc = subprocess.run(["radclient", "-x", "-r", "1", "-t", str(timeout),
                           f"127.0.0.1:{port}", kind, secret], input=line, text=True,
                          capture_output=True, timeout=timeout + 10)
    out = proc.stdout + proc.stderr
    match = re.search(r"Received (\S+) Id", out)
    if match is None:
        return Reply("no reply", raw=out)
    reply = Reply(match.group(1), raw=out)
    for attr in re.findall(r"^\s+(\S+?)(?::\d+)? = (.*)$", out[match.end():], re.M):
        reply.attrs[attr[0]] = attr[1].strip('"')
    return reply


def mab(mac: str, nas_port: str = "Gi1/0/7") -> dict[str, str]:
    """The attributes a switch sends for MAC authentication bypass."""
    bare = mac.replace(":", "").lower()
    return {"User-Name": bare, "User-Password": bare, "Calling-Station-Id": mac.upper()
            .replace(":", "-"), "NAS-IP-Address": "127.0.0.1", "NAS-Port-Id": nas_port,
            "Service-Type": "Call-Check"}


class RadiusClient:
    """Minimal RFC 2865 Access-Request sender (PAP + Message-Authenticator) for timing."""

    def __init__(self, port: int, secret: str, timeout: float = 3.0) -> None:
        self.addr = ("127.0.0.1", port)
        self.secret = secret.encode()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        self.ident = 0

    @staticmethod
    def _attr(kind: int, value: bytes) -> bytes:
        return struct.pack("!BB", kind, len(value) + 2) + value

    def access_request(self, mac: str) -> str:
        """Send a MAB request for *mac*; return the reply's code name."""
        self.ident = (self.ident + 1) % 256
        authenticator = os.urandom(16)
        user = mac.replace(":", "").lower().encode()
        padded = user + b"\0" * (16 - len(user) % 16 if len(user) % 16 else 0)
        digest = hashlib.md5(self.secret + authenticator).digest()  # RFC 2865 §5.2: MD5
        password = bytes(a ^ b for a, b in zip(padded[:16], digest, strict=True))
        attrs = (self._attr(1, user) + self._attr(2, password)
                 + self._attr(31, mac.upper().replace(":", "-").encode())
                 + self._attr(4, socket.inet_aton("127.0.0.1")))
        length = 20 + len(attrs) + 18
        header = struct.pack("!BBH", 1, self.ident, length) + authenticator
        blank = self._attr(80, b"\0" * 16)
        mac_value = hmac.new(self.secret, header + attrs + blank, hashlib.md5).digest()
        self.sock.sendto(header + attrs + self._attr(80, mac_value), self.addr)
        while True:
            data, _ = self.sock.recvfrom(4096)
            if data[1] == self.ident:
                return CODES.get(data[0], str(data[0]))

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()
