"""The shape of the code (docs/architecture.md): one package per area, small modules, each
saying what it is for, and a core that holds only the factory, settings, database, tables and
secrets."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400
CORE = {"__init__.py", "config.py", "db.py", "models.py", "security.py"}
AREAS = {
    "amazon",
    "auth",
    "cli",
    "infra",
    "ledger",
    "manage",
    "mapping",
    "notify",
    "onboarding",
    "posting",
    "views",
    "work",
    "xero",
}


def modules() -> list[Path]:
    """Every Python module of the app, its jobs and its sandbox."""
    found: list[Path] = []
    for top in ("plugin", "jobs", "sandbox"):
        found.extend(sorted((ROOT / top).rglob("*.py")))
    return found


def test_no_module_is_over_400_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): count
        for path in modules()
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def test_every_module_says_what_it_is_for() -> None:
    silent = [
        str(path.relative_to(ROOT))
        for path in modules()
        if not (ast.get_docstring(ast.parse(path.read_text())) or "").strip()
    ]
    assert not silent, f"modules without a docstring: {silent}"


def test_plugin_holds_only_the_core_and_one_package_per_area() -> None:
    plugin = ROOT / "plugin"
    files = {p.name for p in plugin.iterdir() if p.suffix == ".py"}
    packages = {p.name for p in plugin.iterdir() if (p / "__init__.py").exists()}
    assert files == CORE
    assert packages == AREAS


@pytest.mark.parametrize("path", sorted((ROOT / "jobs").glob("*.py")), ids=lambda p: p.name)
def test_jobs_are_thin_entry_points(path: Path) -> None:
    """A job module reads ids, calls one service, reports progress: no queries of its own."""
    tree = ast.parse(path.read_text())
    imported = {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not {name for name in imported if name.split(".")[0] in {"sqlmodel", "sqlalchemy"}}
    assert len(path.read_text().splitlines()) <= 80
