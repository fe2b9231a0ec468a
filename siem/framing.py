"""RFC 6587 framing for syslog over TCP and TLS, detected per connection.

A connection whose first byte is a digit uses octet-counting (``LEN SP MSG``); anything
else uses newline (LF) framing, with a trailing CR or NUL dropped. Memory per connection
is bounded by ``max_message`` plus one read: longer messages are cut to ``max_message``
and flagged, the rest of them skipped. A count that is not a number (a sender lying
about its framing) switches the connection to newline framing and flags the next message.
"""

from __future__ import annotations

from siem.spool import FLAG_FRAMING_ERROR, FLAG_TRUNCATED

MAX_COUNT_DIGITS = 10


class Framer:
    """Split a byte stream into (message, flags) pairs."""

    def __init__(self, max_message: int = 65536) -> None:
        self.max = max_message
        self.mode: str | None = None
        self._buf = bytearray()
        self._skip = 0
        self._discard_line = False
        self._flag = 0

    def _emit(self, out: list[tuple[bytes, int]], data: bytes, flags: int = 0) -> None:
        out.append((data, flags | self._flag))
        self._flag = 0

    def feed(self, data: bytes) -> list[tuple[bytes, int]]:
        """Add *data* and return the complete messages it finished."""
        buf = self._buf
        buf += data
        out: list[tuple[bytes, int]] = []
        while buf:
            if self._skip:
                n = min(self._skip, len(buf))
                del buf[:n]
                self._skip -= n
                continue
            if self.mode is None:
                self.mode = "octet" if buf[:1].isdigit() else "newline"
            if self.mode == "octet":
                if not self._octet(out):
                    break
            elif not self._newline(out):
                break
        return out

    def _octet(self, out: list[tuple[bytes, int]]) -> bool:
        buf = self._buf
        while buf[:1] in (b"\n", b"\r", b"\x00"):  # tolerate stray separators between frames
            del buf[:1]
        if not buf:
            return False
        sp = buf.find(b" ", 0, MAX_COUNT_DIGITS + 1)
        if sp == -1:
            if len(buf) <= MAX_COUNT_DIGITS and buf.isdigit():
                return False  # the count is still arriving
            return self._lie()
        digits = bytes(buf[:sp])
        if not digits.isdigit():
            return self._lie()
        count = int(digits)
        start = sp + 1
        if count <= self.max:
            if len(buf) < start + count:
                return False
            self._emit(out, bytes(buf[start:start + count]))
            del buf[:start + count]
            return True
        if len(buf) < start + self.max:
            return False
        self._emit(out, bytes(buf[start:start + self.max]), FLAG_TRUNCATED)
        del buf[:start + self.max]
        self._skip = count - self.max
        return True

    def _lie(self) -> bool:
        self.mode = "newline"
        self._flag |= FLAG_FRAMING_ERROR
        return True

    def _newline(self, out: list[tuple[bytes, int]]) -> bool:
        buf = self._buf
        i = buf.find(b"\n")
        if i == -1:
            if self._discard_line:
                buf.clear()
            elif len(buf) > self.max:
                self._emit(out, bytes(buf[:self.max]), FLAG_TRUNCATED)
                buf.clear()
                self._discard_line = True
            return False
        line = bytes(buf[:i])
        del buf[:i + 1]
        if self._discard_line:
            self._discard_line = False
            return True
        line = line.rstrip(b"\r\x00") or line.rstrip(b"\r")  # an all-NUL line is kept
        if not line:
            return True
        if len(line) > self.max:
            self._emit(out, line[:self.max], FLAG_TRUNCATED)
        else:
            self._emit(out, line)
        return True

    def finish(self) -> list[tuple[bytes, int]]:
        """Return what is left at end of stream as a last message (newline framing only)."""
        out: list[tuple[bytes, int]] = []
        rest = bytes(self._buf).rstrip(b"\r\n\x00") or bytes(self._buf).rstrip(b"\r\n")
        self._buf.clear()
        if rest and not self._discard_line and not self._skip and self.mode != "octet":
            self._emit(out, rest[:self.max], FLAG_TRUNCATED if len(rest) > self.max else 0)
        elif rest and self.mode == "octet":
            self._emit(out, rest[:self.max], FLAG_FRAMING_ERROR)
        return out
