"""A throw-away PostgreSQL cluster for the test session: initdb + pg_ctl in a temp dir.

Not the system service: the cluster lives in its own directory, listens on a free
loopback port and a private socket directory, and is stopped and deleted at the end.
initdb refuses to run as root, so as root the cluster is owned by the ``postgres``
account that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def find_bindir() -> Path | None:
    """Return the directory holding initdb/pg_ctl, or None when PostgreSQL is missing."""
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                             check=True).stdout.strip()
        if (Path(out) / "initdb").exists():
            return Path(out)
    except (FileNotFoundError, subprocess.CalledProcessError):
        pass
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    """A running cluster: its directory, port and superuser."""

    bindir: Path
    root: Path
    port: int
    user: str

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL for *database* on this cluster (trust auth on loopback)."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=True)

    @classmethod
    def start(cls) -> PgCluster:
        """initdb a fresh cluster and start it; raise RuntimeError with the reason if not."""
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian package `postgresql`)")
        user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        root = Path(tempfile.mkdtemp(prefix="simpul-pg-"))
        if os.geteuid() == 0:
            pw = pwd.getpwnam(user)
            os.chown(root, pw.pw_uid, pw.pw_gid)
        cluster = cls(bindir=bindir, root=root, port=free_port(), user=user)
        try:
            cluster._run("initdb", "-D", str(cluster.datadir), "-U", user, "--auth=trust",
                         "--encoding=UTF8", "--locale=C", "--no-sync")
            opts = (f"-c listen_addresses=127.0.0.1 -p {cluster.port} "
                    f"-c unix_socket_directories={root} -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off -c max_connections=120")
            cluster._run("pg_ctl", "-D", str(cluster.datadir), "-o", opts, "-w", "-t", "30",
                         "-l", str(root / "server.log"), "start")
        except subprocess.CalledProcessError as exc:
            log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"cannot start PostgreSQL: {exc.stderr.strip()} {log}") from exc
        return cluster

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
