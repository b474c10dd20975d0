"""Migration linter (docs/OPERATIONS.md "Zero-downtime upgrades"): the `upgrade()` of every migration must stay
compatible with the previous release's code, which keeps serving while `migrate` runs and until the rollout ends.

Refused unless the call carries the marker `# migration-lint: allow <reason>` on its line or the line above:
  - drop_table, drop_column: the previous release still reads them (drop in a later release: "contract");
  - rename_table, alter_column(new_column_name=...): old code still uses the old name;
  - a column made NOT NULL without a server default (add_column or alter_column with nullable=False): old code
    inserts rows without it.
Usage: python scripts/lint_migrations.py [files...]   (default: migrations/versions/*.py); exit 1 on a finding.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "migration-lint: allow"
DESTRUCTIVE = {
    "drop_table": "borra una tabla",
    "drop_column": "borra una columna",
    "rename_table": "renombra una tabla",
}


def _kw(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_false(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _column_not_null_without_default(node) -> bool:
    """sa.Column(..., nullable=False) without server_default (a primary key is allowed: new tables only)."""
    return (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", "")) == "Column"
        and _is_false(_kw(node, "nullable"))
        and _kw(node, "server_default") is None
        and not (isinstance(_kw(node, "primary_key"), ast.Constant) and _kw(node, "primary_key").value)
    )


def findings(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source, str(path))
    upgrade = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None)
    if upgrade is None:
        return []
    found = []
    for node in ast.walk(upgrade):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        problem = DESTRUCTIVE.get(name)
        if name == "alter_column":
            if _kw(node, "new_column_name") is not None:
                problem = "renombra una columna"
            elif _is_false(_kw(node, "nullable")) and _kw(node, "server_default") is None:
                problem = "hace NOT NULL una columna sin server_default"
        elif name == "add_column" and any(_column_not_null_without_default(a) for a in node.args):
            problem = "agrega una columna NOT NULL sin server_default"
        if problem is None:
            continue
        nearby = lines[max(node.lineno - 2, 0) : node.end_lineno]
        if any(MARKER in line for line in nearby):
            continue
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        found.append(f"{shown}:{node.lineno}: {name}: {problem} (marque '# {MARKER} <motivo>')")
    return found


def main(argv: list[str]) -> int:
    files = [Path(a).resolve() for a in argv] or sorted((ROOT / "migrations" / "versions").glob("*.py"))
    problems = [p for f in files for p in findings(f)]
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} operación(es) destructiva(s) sin marca: expand/contract en docs/OPERATIONS.md")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
