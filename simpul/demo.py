"""Demo data: a Diskominfo, a handful of OPDs and one user per SOP desk.

Idempotent, so ``make demo`` can run it on every start. Domain packages add their own
demo data (sites, racks, devices, prefixes) through a ``<package>.demo.load_demo(session)``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from simpul.audit import Actor
from simpul.models import Role
from simpul.plugins import optional_import
from simpul.settings import load_settings
from simpul.tenancy import create_opd, get_opd
from simpul.users import create_user, get_user

OPERATOR = ("DISKOMINFO", "Dinas Komunikasi dan Informatika")
OPDS = (
    ("DINKES", "Dinas Kesehatan"),
    ("DISDIK", "Dinas Pendidikan dan Kebudayaan"),
    ("BAPPEDA", "Badan Perencanaan Pembangunan Daerah"),
    ("DISPENDUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil"),
    ("KEC-SIDOARJO", "Kecamatan Sidoarjo"),
)
STAFF = (
    ("helpdesk", Role.HELPDESK, "Petugas Help Desk"),
    ("itsupport", Role.IT_SUPPORT, "Tim IT Support"),
    ("infra", Role.INFRASTRUCTURE, "Tim Infrastruktur"),
    ("datacenter", Role.DATACENTER, "Tim Data Center"),
    ("pimpinan", Role.LEADERSHIP, "Kepala Dinas"),
    ("noc", Role.NOC, "Operator NOC"),
    ("security", Role.SECURITY, "Tim Keamanan Informasi"),
)
DOMAIN_DEMOS = ("inventory.demo", "collectors.demo", "siem.demo", "nac.demo")


@dataclass
class DemoResult:
    """What the loader did, for the person who started the demo."""

    admin_password: str
    created: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """Lines to print: what was created and how to sign in."""
        lines = [f"created {', '.join(self.created)}" if self.created else "demo data present"]
        lines.append(f"sign in as admin / {self.admin_password} "
                     "(every other demo user has the same password)")
        return lines


def _demo_password(explicit: str | None) -> str:
    """The demo password: given, or generated once and kept (0600) in the data directory."""
    if explicit:
        return explicit
    path = Path(load_settings().data_dir) / "demo-password"
    if path.is_file():
        return path.read_text().strip()
    value = "demo-" + secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def load_demo(session: Session, *, admin_password: str | None = None) -> DemoResult:
    """Create the demo tenants and users that are missing; never touch existing ones."""
    actor = Actor.system("demo")
    result = DemoResult(admin_password=_demo_password(admin_password))
    if get_opd(session, OPERATOR[0]) is None:
        create_opd(session, actor, *OPERATOR, is_operator=True)
        result.created.append(f"OPD {OPERATOR[0]}")
    for code, name in OPDS:
        if get_opd(session, code) is None:
            create_opd(session, actor, code, name)
            result.created.append(f"OPD {code}")
    accounts = [("admin", Role.ADMIN, "Administrator", OPERATOR[0])]
    accounts += [(u, r, n, OPERATOR[0]) for u, r, n in STAFF]
    accounts += [(f"user.{code.lower()}", Role.REQUESTER, f"Operator {name}", code)
                 for code, name in OPDS]
    for username, role, full_name, opd_code in accounts:
        if get_user(session, username) is None:
            create_user(session, actor, username, role=role.value, opd_code=opd_code,
                        password=result.admin_password, full_name=full_name)
            result.created.append(f"user {username}")
    for module_name in DOMAIN_DEMOS:
        module = optional_import(module_name)
        if module is not None:
            result.created.extend(module.load_demo(session))
    return result
