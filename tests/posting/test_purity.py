"""The posting rules are pure: importing ``plugin.posting`` loads no Flask, SQLAlchemy or
requests (checked in a fresh interpreter, since this one has loaded them all already)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_MODULES = ("flask", "sqlalchemy", "requests")
CHECK = (
    "import plugin.posting, sys; "
    "assert 'flask' not in sys.modules and 'sqlalchemy' not in sys.modules "
    "and 'requests' not in sys.modules"
)


def loaded_after(imports: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run ``imports`` then the purity check in a new interpreter; also say what got loaded."""
    report = f"print(sorted(set({APP_MODULES!r}) & set(sys.modules)))"
    code = f"import sys; {imports}; {report}; {CHECK}"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    loaded = ast.literal_eval(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else []
    return done, loaded


def test_importing_the_posting_rules_loads_no_flask_sqlalchemy_or_requests() -> None:
    done, loaded = loaded_after("import plugin.posting")
    assert done.returncode == 0, (
        f"`import plugin.posting` loaded {loaded or 'something unexpected'}:\n{done.stderr}"
    )
    assert loaded == []


def test_the_check_notices_a_module_that_is_loaded() -> None:
    done, loaded = loaded_after("import plugin.posting; import requests")
    assert done.returncode != 0
    assert loaded == ["requests"]
