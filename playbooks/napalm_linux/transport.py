"""SSH to a Linux shell: one command per channel, exit status and stdin, binary-safe.

Paramiko's ``exec_command`` rather than Netmiko's prompt scraping: the driver moves file
contents and needs each command's exit status, which a channel gives exactly.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import paramiko
from loguru import logger


class ShellError(RuntimeError):
    """A command on the device exited non-zero (or the SSH session failed)."""

    def __init__(self, command: str, status: int, output: str) -> None:
        last = output.strip().splitlines()[-1:] or [f"exit status {status}"]
        super().__init__(f"{command!r} failed ({status}): {last[0][:300]}")
        self.command = command
        self.status = status
        self.output = output


@dataclass(frozen=True)
class Result:
    """What one command returned."""

    status: int
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        """stdout and stderr, decoded."""
        return (self.stdout + self.stderr).decode(errors="replace")


class Shell:
    """An SSH connection to a Linux shell."""

    def __init__(self, host: str, username: str, password: str | None, port: int = 22,
                 timeout: float = 30.0, key_file: str | None = None) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._username, self._password, self._key_file = username, password, key_file
        self._client: paramiko.SSHClient | None = None

    def open(self) -> None:
        """Connect (host keys are not pinned: lab and first-contact devices)."""
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect(self.host, port=self.port, username=self._username,
                       password=self._password, key_filename=self._key_file,
                       timeout=self.timeout, banner_timeout=self.timeout,
                       auth_timeout=self.timeout, look_for_keys=self._key_file is None
                       and self._password is None, allow_agent=False)
        self._client = client

    @property
    def alive(self) -> bool:
        """True while the SSH transport is up."""
        transport = self._client.get_transport() if self._client else None
        return bool(transport and transport.is_active())

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def run(self, command: str, stdin: bytes | None = None, check: bool = True,
            timeout: float | None = None) -> Result:
        """Run *command* through the login shell; feed *stdin*; return its result.

        Raises:
            ShellError: non-zero exit (when *check*) or no connection.
        """
        if self._client is None:
            raise ShellError(command, -1, "not connected")
        transport = self._client.get_transport()
        if transport is None or not transport.is_active():
            raise ShellError(command, -1, "the SSH connection was lost")
        channel = transport.open_session(timeout=self.timeout)
        channel.settimeout(timeout or self.timeout * 2)
        try:
            channel.exec_command(command)
            if stdin:
                channel.sendall(stdin)
            channel.shutdown_write()
            stdout = _read_all(channel.makefile("rb"))
            stderr = _read_all(channel.makefile_stderr("rb"))
            status = channel.recv_exit_status()
        finally:
            channel.close()
        logger.debug("{}:{} $ {} -> {}", self.host, self.port, command[:120], status)
        result = Result(status, stdout, stderr)
        if check and status != 0:
            raise ShellError(command, status, result.text)
        return result


def _read_all(stream: paramiko.ChannelFile) -> bytes:
    return stream.read()


def quote(*words: str) -> str:
    """Return *words* as one shell-quoted command line."""
    return " ".join(shlex.quote(w) for w in words)
