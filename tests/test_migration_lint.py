"""The migration linter (scripts/lint_migrations.py, run by `make lint`): destructive operations need a marker."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("lint_migrations", ROOT / "scripts" / "lint_migrations.py")
lint = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lint)

TEMPLATE = """revision = "abc"
down_revision = "def"
import sqlalchemy as sa
from alembic import op


def upgrade():
{body}


def downgrade():
    op.drop_table("kept_in_downgrade")
"""


def run(tmp_path, body: str) -> list[str]:
    path = tmp_path / "probe.py"
    path.write_text(TEMPLATE.format(body=body))
    return lint.findings(path)


def test_destructive_operations_are_refused(tmp_path):
    cases = {
        '    op.drop_table("clients")': "drop_table",
        '    op.drop_column("clients", "phone")': "drop_column",
        '    with op.batch_alter_table("clients") as b:\n        b.drop_column("phone")': "drop_column",
        '    op.rename_table("clients", "customers")': "rename_table",
        '    op.alter_column("clients", "phone", new_column_name="telefono")': "renombra una columna",
        '    op.alter_column("clients", "phone", nullable=False)': "NOT NULL",
        '    op.add_column("clients", sa.Column("rut", sa.String(12), nullable=False))': "NOT NULL",
    }
    for body, expected in cases.items():
        found = run(tmp_path, body)
        assert len(found) == 1 and expected in found[0], (body, found)


def test_additive_and_marked_operations_pass(tmp_path):
    for body in (
        '    op.add_column("clients", sa.Column("rut", sa.String(12), nullable=True))',
        '    op.add_column("clients", sa.Column("vip", sa.Boolean(), nullable=False, server_default=sa.false()))',
        '    op.alter_column("clients", "phone", nullable=False, server_default="")',
        '    op.create_table("x", sa.Column("id", sa.Integer(), primary_key=True, nullable=False))',
        "    # migration-lint: allow contract step of 0012 (columna sin uso desde la versión 2.3)\n"
        '    op.drop_column("clients", "legacy_phone")',
        '    op.drop_table("tmp_import")  # migration-lint: allow tabla temporal de la importación',
    ):
        assert run(tmp_path, body) == [], body


def test_the_project_migrations_pass_and_the_script_exits_nonzero_on_a_finding(tmp_path):
    assert subprocess.run([sys.executable, str(ROOT / "scripts" / "lint_migrations.py")]).returncode == 0
    bad = tmp_path / "bad.py"
    bad.write_text(TEMPLATE.format(body='    op.drop_column("clients", "phone")'))
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lint_migrations.py"), str(bad)], capture_output=True, text=True
    )
    assert result.returncode == 1 and "drop_column" in result.stdout
