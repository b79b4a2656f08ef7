"""`flask` commands for mappings: `preview` (design.md §7), `mapping-export`, `mapping-import`.

``flask --app wsgi preview --transactions TX.json --mapping MAP.json --chart CHART.json`` prints
what posting would send as JSON on stdout, with no network call and no database. Malformed input
(a file that is missing, unreadable, too large, not UTF-8, not JSON, nested too deep, with an
oversized number or a repeated key, or not the documented shape) ends with exit status 2 and one
line on stderr naming the file, the place and what is wrong; never a traceback. The bytes are read
by ``mapping.json_text``, as the mapping page's upload reads them, so the rules are the same.

``mapping-export --org ID [--out FILE]`` writes an organisation's mapping in the export format.
``mapping-import --org ID FILE`` reads the file (a malformed one: exit 2, one line, before
anything is asked of Xero), checks it against the organisation's chart, fetched fresh from Xero,
and saves it, or refuses it (exit 2) listing every problem, one per line.
``--org`` takes the organisation's id or its Xero tenant id.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from typing import NoReturn

import click
import simplejson
from flask import Flask
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session
from sqlmodel import select

from plugin.cli.database import needs_current_schema
from plugin.db import session_scope
from plugin.mapping import chart as org_chart
from plugin.mapping.files import MappingFileError
from plugin.mapping.files import load_mapping
from plugin.mapping.json_files import InputFileError
from plugin.mapping.json_text import MAX_FILE_BYTES
from plugin.mapping.json_text import read_json
from plugin.mapping.preview import DATA_FILE_BYTES
from plugin.mapping.preview import preview as preview_plan
from plugin.mapping.rows import MappingStoreError
from plugin.mapping.store import MappingRejected
from plugin.mapping.store import export_mapping
from plugin.mapping.store import import_mapping
from plugin.models import Organisation
from plugin.xero.errors import XeroError

__all__ = ["mapping_export", "mapping_import", "preview"]

BAD_INPUT = 2
FAILED = 1


def one_line(text: str) -> str:
    """Return ``text`` on a single line (newlines in paths or messages become spaces)."""
    return " ".join(text.split())


def fail(message: str, status: int = BAD_INPUT) -> NoReturn:
    """Print ``message`` as one line on stderr and exit with ``status``."""
    click.echo(one_line(message), err=True)
    sys.exit(status)


def read_bytes(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """Return a file's bytes (at most one past ``limit``: the reader refuses that), or fail with
    one line naming it."""
    try:
        with Path(path).open("rb") as file:
            return file.read(limit + 1)
    except FileNotFoundError:
        fail(f"{path}: $: file not found")
    except IsADirectoryError:
        fail(f"{path}: $: is a directory, not a file")
    except OSError as exc:
        fail(f"{path}: $: cannot be read ({exc.strerror or type(exc).__name__})")


def read_mapping_file(path: str) -> object:
    """Return a mapping file's JSON, checked to be the export format, or fail with one line
    naming the file and the place (``json_text.read_json`` and ``files.load_mapping``: the rules
    of the page's upload). Nothing is asked of Xero for a file that is not the format."""
    try:
        data = read_json(read_bytes(path), path, MappingFileError)
        load_mapping(data, path)
    except InputFileError as exc:
        fail(str(exc))
    return data


def design_shape(result: dict[str, Any]) -> dict[str, Any]:
    """Return ``mapping.preview.preview``'s result with exactly design.md §7's keys.

    ``preview`` also gives each held entry its machine ``code``; the command's output is a stable
    interface, so it carries only what §7 promises, plus one addition: a card bill (a purchase in
    another currency than its base-currency card account) carries its ``payment`` intent, the
    payment of the bill from the card account that follows it.
    """
    keys = ("endpoint", "amazon_transaction_id", "body", "payment")
    return {
        "documents": [{key: d[key] for key in keys if key in d} for d in result["documents"]],
        "held": [
            {key: h[key] for key in ("amazon_transaction_id", "reason")} for h in result["held"]
        ],
    }


@click.command("preview")
@click.option("--transactions", "tx_path", required=True, help="A getTransactions body (TX.json).")
@click.option("--mapping", "map_path", required=True, help="A mapping in the export format.")
@click.option("--chart", "chart_path", required=True, help="The org in Xero's shapes (CHART.json).")
def preview(tx_path: str, map_path: str, chart_path: str) -> None:
    """Print what posting would send to Xero, as JSON, without any network call."""
    inputs = {
        tx_path: read_bytes(tx_path, DATA_FILE_BYTES),
        map_path: read_bytes(map_path),
        chart_path: read_bytes(chart_path, DATA_FILE_BYTES),
    }
    try:
        result = preview_plan(
            inputs[tx_path],
            inputs[map_path],
            inputs[chart_path],
            tx_source=tx_path,
            map_source=map_path,
            chart_source=chart_path,
        )
        # Amounts are Decimal: written as JSON numbers with exactly their digits.
        output = simplejson.dumps(
            design_shape(result), indent=2, ensure_ascii=False, use_decimal=True
        )
    except InputFileError as exc:
        fail(str(exc))
    except Exception as exc:  # a bug: still one line, never a traceback
        fail(f"preview failed ({type(exc).__name__}: {exc}); please report it", FAILED)
    click.echo(output)


def find_org(session: Session, org: str) -> Organisation:
    """Return the organisation with this id or Xero tenant id, or fail with one line."""
    found = None
    if org.isdigit():
        found = session.get(Organisation, int(org))
    if found is None:
        found = session.exec(select(Organisation).where(Organisation.xero_tenant_id == org)).first()
    if found is None:
        fail(f"--org {org}: no organisation with that id or Xero tenant id")
    return found


@click.command("mapping-export")
@click.option("--org", "org_ref", required=True, help="Organisation id or Xero tenant id.")
@click.option("--out", "out_path", default=None, help="Write to this file instead of stdout.")
@with_appcontext
@needs_current_schema
def mapping_export(org_ref: str, out_path: str | None) -> None:
    """Write an organisation's mapping in the export format (design.md §7)."""
    with session_scope() as session:
        org = find_org(session, org_ref)
        assert org.id is not None
        try:
            data = export_mapping(session, org.id)
        except MappingStoreError as exc:
            fail(f"organisation {org.id}: {exc}", FAILED)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if out_path is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out_path).write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{out_path}: cannot be written ({exc.strerror or type(exc).__name__})", FAILED)
    click.echo(f"Wrote the mapping of {org.name or org.xero_tenant_id} to {out_path}.", err=True)


@click.command("mapping-import")
@click.option("--org", "org_ref", required=True, help="Organisation id or Xero tenant id.")
@click.argument("file_path", metavar="FILE")
@with_appcontext
@needs_current_schema
def mapping_import(org_ref: str, file_path: str) -> None:
    """Check a mapping file against the organisation's Xero chart and save it."""
    from plugin.xero.wiring import xero_client

    data = read_mapping_file(file_path)
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    with session_scope() as session:
        org = find_org(session, org_ref)
        assert org.id is not None
        try:
            document = org_chart.chart_document(xero_client(org, app), org)
            chart = org_chart.chart_from_document(document)
        except (XeroError, InputFileError) as exc:
            fail(f"could not read the chart of accounts from Xero: {exc}", FAILED)
        try:
            change = import_mapping(
                session,
                org.id,
                data,
                file_path,
                chart,
                actor="cli:mapping-import",
                payments_enabled=org_chart.payments_enabled_codes(document),
            )
        except InputFileError as exc:
            fail(str(exc))
        except MappingRejected as exc:
            for line in exc.lines():
                click.echo(one_line(line), err=True)
            sys.exit(BAD_INPUT)
    click.echo(f"Imported {file_path} for {org.name or org.xero_tenant_id}: {change.describe()}.")
