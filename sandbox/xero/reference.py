"""Read-only settings endpoints: Organisation (+Actions), Accounts, TaxRates, Currencies."""

from __future__ import annotations

import copy
from typing import Any

from flask import Response
from flask import request

from sandbox.core import current_sandbox
from sandbox.xero.api import api_blueprint
from sandbox.xero.api import current_tenant
from sandbox.xero.api import error_response
from sandbox.xero.api import not_found
from sandbox.xero.api import respond
from sandbox.xero.where import WhereError
from sandbox.xero.where import compile_where

bp = api_blueprint("xero_reference", __name__)


def filtered(items: list[dict[str, Any]]) -> list[dict[str, Any]] | Response:
    """``items`` matching the ``where`` parameter (copies), or a 400 for a bad filter."""
    try:
        predicate = compile_where(request.args.get("where"))
    except WhereError as exc:
        return query_error(str(exc))
    return [copy.deepcopy(item) for item in items if predicate(item)]


def query_error(message: str) -> Response:
    """Xero's 400 for a ``where`` it cannot parse."""
    return error_response({"ErrorNumber": 16, "Type": "QueryParseException", "Message": message})


@bp.get("/Organisation")
def organisation() -> Any:
    """The organisation behind ``xero-tenant-id``."""
    with current_sandbox().lock:
        return respond("Organisations", [copy.deepcopy(current_tenant().organisation)])


@bp.route("/Organisation", methods=["POST", "PUT"])
def organisation_write() -> Any:
    """Xero does not implement writes to Organisation."""
    return Response("The method is not implemented", status=501, mimetype="text/plain")


@bp.get("/Organisation/Actions")
def organisation_actions() -> Any:
    """Which actions the organisation's plan allows."""
    with current_sandbox().lock:
        return respond("Actions", copy.deepcopy(current_tenant().actions))


@bp.get("/Accounts")
def accounts() -> Any:
    """The chart of accounts (``where`` on Status, Type, Code, Class, ...)."""
    with current_sandbox().lock:
        found = filtered(current_tenant().accounts)
    if isinstance(found, Response):
        return found
    return respond("Accounts", found)


@bp.get("/Accounts/<account_id>")
def account(account_id: str) -> Any:
    """One account by id."""
    with current_sandbox().lock:
        found = current_tenant().account_by_id(account_id)
        if found is None:
            return not_found()
        return respond("Accounts", [copy.deepcopy(found)])


@bp.get("/TaxRates")
def tax_rates() -> Any:
    """The tax rates (``where`` on Status, TaxType, ...)."""
    with current_sandbox().lock:
        found = filtered(current_tenant().tax_rates)
    if isinstance(found, Response):
        return found
    if request.args.get("TaxType"):
        found = [t for t in found if t["TaxType"] == request.args["TaxType"]]
    return respond("TaxRates", found)


@bp.get("/TaxRates/<tax_type>")
def tax_rate(tax_type: str) -> Any:
    """One tax rate by tax type."""
    with current_sandbox().lock:
        found = current_tenant().tax_rate(tax_type)
        if found is None:
            return not_found()
        return respond("TaxRates", [copy.deepcopy(found)])


@bp.get("/Currencies")
def currencies() -> Any:
    """The currencies enabled for the organisation."""
    with current_sandbox().lock:
        found = filtered(current_tenant().currencies)
    if isinstance(found, Response):
        return found
    return respond("Currencies", found)
