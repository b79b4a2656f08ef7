"""Load ``<repo root>/../shared/tools/xero_schema_check.py`` (Xero's official schema) by path."""

from __future__ import annotations

import functools
import importlib.util
import pathlib
from collections.abc import Callable
from types import ModuleType

import pytest

SHARED = pathlib.Path(__file__).resolve().parents[2].parent / "shared"
CHECKER = SHARED / "tools" / "xero_schema_check.py"
SCHEMA_FOR_ENDPOINT = {
    "BankTransactions": "BankTransaction",
    "Invoices": "Invoice",
    "CreditNotes": "CreditNote",
    "Payments": "Payment",
}


@functools.cache
def _module() -> ModuleType | None:
    if not CHECKER.is_file():
        return None
    spec = importlib.util.spec_from_file_location("xero_schema_check", CHECKER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def errors_for() -> Callable[[str, object], list[str]]:
    """Return the checker's ``errors_for``, or skip the test saying why it cannot run."""
    module = _module()
    if module is None:
        pytest.skip(f"Xero schema checker not found at {CHECKER} (the shared reference dir)")
    return module.errors_for


def schema_errors(endpoint: str, body: object) -> list[str]:
    """Every way ``body`` breaks Xero's schema for the element of ``endpoint``."""
    return errors_for()(SCHEMA_FOR_ENDPOINT[endpoint], body)
