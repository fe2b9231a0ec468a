"""Per-package migration branches: a package's revision holds only its own tables.

Runs in a subprocess: the throw-away package's model must not leak into the metadata
the other tests compare against the database.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import simpul

SCRIPT = textwrap.dedent('''
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    import simpul.migrate as migrate
    migrate.MIGRATIONS_DIR = Path(sys.argv[1])
    from simpul.db import Database
    from sqlalchemy import inspect

    db = Database(f"sqlite:///{sys.argv[3]}")
    migrate.upgrade(db)
    import zzpkg.models  # noqa: F401  (a new package with a table, after the trunk exists)
    first = Path(migrate.revision(db, "zz things", "zzpkg")).read_text()
    assert "branch_labels: str | Sequence[str] | None = ('zzpkg',)" in first, first
    assert "zz_things" in first
    assert "op.create_table('users'" not in first and "dcim_" not in first, first
    migrate.upgrade(db)
    assert "zz_things" in inspect(db.engine).get_table_names()
    import zzpkg.more  # noqa: F401
    second = Path(migrate.revision(db, "zz more", "zzpkg")).read_text()
    assert "down_revision: str | None = 'zzpkg_0001'" in second, second
    assert "zz_more" in second and "zz_things" not in second.split("def downgrade")[0].split(
        "def upgrade")[1].replace("zz_more", ""), second
    migrate.upgrade(db)
    assert migrate.is_current(db), (migrate.current_revision(db), migrate.head_revision(db))
    print("ok", migrate.current_revision(db))
''')

MODELS = textwrap.dedent('''
    from sqlalchemy import String
    from sqlalchemy.orm import Mapped, mapped_column
    from simpul.models import Base

    class {name}(Base):
        __tablename__ = "{table}"
        id: Mapped[int] = mapped_column(primary_key=True)
        label: Mapped[str] = mapped_column(String(40))
''')


def test_package_revision_is_its_own_branch(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(Path(simpul.__file__).parent / "migrations", migrations,
                    ignore=shutil.ignore_patterns("__pycache__"))
    pkg = tmp_path / "code" / "zzpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text(MODELS.format(name="Thing", table="zz_things"))
    (pkg / "more.py").write_text(MODELS.format(name="More", table="zz_more"))
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(migrations),
                             str(tmp_path / "code"), str(tmp_path / "db.sqlite")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1].startswith("ok ")
    assert "zzpkg_0002" in result.stdout
