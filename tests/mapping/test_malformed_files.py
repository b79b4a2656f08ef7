"""Malformed input, all of it (issue 13 point 8): one table of bad files, run through every path
that reads one, ``flask preview`` (as the mapping file, CHART.json and TX.json),
``flask mapping-import`` and the mapping page's upload (with CSRF on, as in production).

Every path answers with the same line, ``<file name>: <place>: <what is wrong>``: exit status 2
and that one line on stderr for a command, a 422 with the line by the upload field for the page;
nothing is saved, no traceback, no "please report it".
"""

from __future__ import annotations

import html
import io
import json
import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from plugin.auth.token_store import save_xero_token
from plugin.mapping.json_text import MAX_FILE_BYTES
from plugin.mapping.json_text import InputFileError
from plugin.mapping.json_text import read_json
from plugin.mapping.store import load_mapping
from plugin.views.mapping import TOO_LARGE
from tests.common.amazon_payloads import uk_card_charge
from tests.common.charts import uk_chart
from tests.common.charts import uk_mapping
from tests.common.onboarding import HX
from tests.common.onboarding import make_org
from tests.common.onboarding import record
from tests.common.onboarding import save_uk_mapping
from tests.common.onboarding import seed_chart
from tests.common.onboarding import text_of
from tests.common.onboarding import uk_transactions
from tests.common.xero import XERO_URL
from tests.common.xero import mock_chart

DEEP = b'{"version": 1, "payment_methods": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
HUGE_INT = b'{"version": 1, "bill_due_days": ' + b"9" * 5000 + b"}"
OVER_LIMIT = b'{"version": 1, "note": "' + b"x" * MAX_FILE_BYTES + b'"}'

# (id, file content, what follows "<file name>: " on the one line every path answers)
TEXT_CASES = [
    (
        "5000-digit-integer",
        HUGE_INT,
        "line 1 column 33: a number 5000 characters long (999999999999999999999...); "
        "at most 20 digits",
    ),
    ("nested-100000-deep", DEEP, "line 1 column 98: nested deeper than 64 arrays and objects"),
    (
        "amount-too-large",
        b'{"version": 1,\n "bill_due_days": 1e25}',
        "line 2 column 19: the number 1e25 is too large (at most 20 digits before the point)",
    ),
    (
        "too-many-decimals",
        b'{"version": 1, "bill_due_days": 0.000000000000000000001}',
        "line 1 column 33: the number 0.000000000000000000001 has more than 20 digits after the "
        "point",
    ),
    (
        "nan",
        b'{"version": 1, "bill_due_days": NaN}',
        "line 1 column 33: NaN is not valid JSON (numbers must be finite)",
    ),
    (
        "infinity",
        b'{"version": 1, "bill_due_days": -Infinity}',
        "line 1 column 33: -Infinity is not valid JSON (numbers must be finite)",
    ),
    (
        "repeated-key",
        b'{"version": 1, "version": 1}',
        '$: the key "version" appears more than once',
    ),
    (
        "repeated-nested-key",
        b'{"version": 1, "line_types": {"shipping": "425", "shipping": "429"}}',
        '$.line_types: the key "shipping" appears more than once',
    ),
    (
        "utf-16",
        '{"version": 1}'.encode("utf-16"),
        "line 1 column 1: UTF-16 text; save the file as UTF-8",
    ),
    (
        "latin-1",
        '{"version": 1,\n "expense_default_account_code": "café"}'.encode("latin-1"),
        "line 2 column 38: not UTF-8 text (byte 0xE9 invalid continuation byte); "
        "save the file as UTF-8",
    ),
    ("empty", b"", "$: the file is empty"),
    ("blank", b" \n\t\n", "$: the file is empty"),
    (
        "not-json",
        b'{"version": 1,\n "payment_methods": [}',
        "line 2 column 22: not valid JSON (Expecting value)",
    ),
    (
        "unterminated-string-of-brackets",
        b'{"version": 1, "x": "' + b"[" * 100 + b"\n}",
        "line 1 column 122: not valid JSON (Invalid control character at)",
    ),
    ("over-2-mib", OVER_LIMIT, "$: the file is larger than 2 MiB, the most accepted"),
]
"""Faults of the text: the same for any of the input files."""

SHAPE_CASES = [
    (
        "version-1.0",
        b'{"version": 1.0}',
        "$.version: should be the integer 1 or 2, got 1.0 (written with a point or an exponent)",
    ),
    ("version-true", b'{"version": true}', "$.version: should be 1 or 2, got true"),
    ("version-text", b'{"version": "1"}', '$.version: should be 1 or 2, got "1"'),
    (
        "version-1e0",
        b'{"version": 1e0}',
        "$.version: should be the integer 1 or 2, got 1 (written with a point or an exponent)",
    ),
    (
        "unknown-treatment",
        b'{"version": 1, "payment_methods": [{"type": "Visa", "treatment": "card"}]}',
        "$.payment_methods[0].treatment: must be one of 'spend_money', 'bill', got \"card\"",
    ),
    (
        "5001-tax-rates",
        b'{"version": 1, "tax_rates": [' + b"{}, " * 5000 + b"{}]}",
        "$.tax_rates: has 5001 entries; at most 5000 are accepted",
    ),
    (
        "numeric-rate",
        b'{"version": 1, "tax_rates": [{"rate": 0.2, "tax_type": "INPUT2"}]}',
        '$.tax_rates[0].rate: should be a rate as text, like "0.20", got 0.2',
    ),
]
"""Valid JSON, not the mapping file's shape (pydantic's errors, one line each)."""

MAPPING_CASES = TEXT_CASES + SHAPE_CASES


def ids(cases: list[tuple[str, bytes, str]]) -> list[str]:
    return [case[0] for case in cases]


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """CSRF on (as in production); Xero on the mocked API for ``mapping-import``."""
    return {
        **app_config,
        "WTF_CSRF_ENABLED": True,
        "XERO_API_URL": XERO_URL,
        "XERO_IDENTITY_URL": "https://identity.xero.test",
        "XERO_CLIENT_ID": "cid",
        "XERO_CLIENT_SECRET": "secret",
    }


@pytest.fixture
def org(app, client, make_member, db_session, redis_client, sign_in):
    """A UK org with its chart, ledger and mapping; its member signed in; Xero tokens stored."""
    user, organisation = make_org(make_member, db_session)
    seed_chart(redis_client, organisation.id)
    record(app, organisation.id, uk_transactions())
    save_uk_mapping(app, organisation.id)
    save_xero_token(
        app.extensions["token_cipher"],
        organisation,
        {"access_token": "acc", "refresh_token": "ref", "expires_at": time.time() + 900},
    )
    db_session.add(organisation)
    db_session.commit()
    sign_in(client, user)
    return organisation


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=[str(a) for a in args])


def one_line_on_stderr(result: Any) -> str:
    """The command's answer to a malformed file: exit 2, one line on stderr, nothing else."""
    assert result.exit_code == 2, result.output[:500]
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr[:500]
    assert "Traceback" not in result.output
    assert "please report it" not in result.output
    return str(result.stderr.strip())


def preview_files(tmp_path: Path, **bad: bytes) -> tuple[list[str], dict[str, Path]]:
    good = {
        "transactions": json.dumps({"transactions": [uk_card_charge()]}).encode(),
        "mapping": json.dumps(uk_mapping()).encode(),
        "chart": json.dumps(uk_chart()).encode(),
    }
    names = {"transactions": "TX.json", "mapping": "MAP.json", "chart": "CHART.json"}
    paths: dict[str, Path] = {}
    args: list[str] = []
    for which, content in {**good, **bad}.items():
        paths[which] = tmp_path / names[which]
        paths[which].write_bytes(content)
        args += [f"--{which}", str(paths[which])]
    return args, paths


# --- The reader alone --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "content", "says"), TEXT_CASES, ids=ids(TEXT_CASES))
def test_the_reader_refuses_with_the_place(name, content, says) -> None:
    with pytest.raises(InputFileError) as caught:
        read_json(content, "F.json", InputFileError)
    assert str(caught.value) == f"F.json: {says}"


def test_the_reader_reads_numbers_exactly_and_drops_a_utf8_bom() -> None:
    data = read_json(b'\xef\xbb\xbf{"a": 12.50, "b": 3, "c": "[{", "d": 1E2}', "F", InputFileError)
    assert data == {"a": Decimal("12.50"), "b": 3, "c": "[{", "d": Decimal("1E2")}
    assert isinstance(data["b"], int)
    assert str(data["a"]) == "12.50"


def test_the_reader_allows_64_levels_and_20_digits() -> None:
    deep = read_json("[" * 64 + "]" * 64, "F", InputFileError)
    for _ in range(63):
        (deep,) = deep
    assert deep == []
    with pytest.raises(InputFileError, match="nested deeper than 64"):
        read_json("[" * 65 + "]" * 65, "F", InputFileError)
    assert read_json("[-12345678901234567890.12345678901234567890]", "F", InputFileError) == [
        Decimal("-12345678901234567890.12345678901234567890")
    ]
    assert read_json(b" " * (MAX_FILE_BYTES - 2) + b"[]", "F", InputFileError) == []


# --- flask preview -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "content", "says"), MAPPING_CASES, ids=ids(MAPPING_CASES))
def test_preview_refuses_a_malformed_mapping_file(run, tmp_path, name, content, says) -> None:
    args, paths = preview_files(tmp_path, mapping=content)
    assert one_line_on_stderr(run("preview", *args)) == f"{paths['mapping']}: {says}"


DATA_FILE_CASES = [case for case in TEXT_CASES if case[0] != "over-2-mib"]
"""TX.json and CHART.json may be up to 32 MiB (the next test but one)."""


@pytest.mark.parametrize("which", ["chart", "transactions"])
@pytest.mark.parametrize(("name", "content", "says"), DATA_FILE_CASES, ids=ids(DATA_FILE_CASES))
def test_preview_refuses_a_malformed_chart_or_transactions_file(
    run, tmp_path, which, name, content, says
) -> None:
    args, paths = preview_files(tmp_path, **{which: content})
    assert one_line_on_stderr(run("preview", *args)) == f"{paths[which]}: {says}"


def test_preview_reads_a_large_chart_but_not_past_32_mib(run, tmp_path) -> None:
    chart = uk_chart()
    chart["Padding"] = "x" * (3 * 1024 * 1024)  # keys not named are ignored
    args, _ = preview_files(tmp_path, chart=json.dumps(chart).encode())
    assert run("preview", *args).exit_code == 0
    too_big = b'{"x": "' + b"x" * (32 * 1024 * 1024) + b'"}'
    args, paths = preview_files(tmp_path, chart=too_big)
    assert one_line_on_stderr(run("preview", *args)) == (
        f"{paths['chart']}: $: the file is larger than 32 MiB, the most accepted"
    )


def test_preview_holds_a_fractional_quantity_naming_its_digits(run, tmp_path) -> None:
    """Numbers with a fraction are read as Decimal; a reason shows their digits, not a repr."""
    text = json.dumps({"transactions": [uk_card_charge()]}).replace(
        '"itemQuantity": 2', '"itemQuantity": 2.50'
    )
    args, _ = preview_files(tmp_path, transactions=text.encode())
    result = run("preview", *args)
    assert result.exit_code == 0, result.output
    (held,) = json.loads(result.stdout)["held"]
    assert "itemQuantity: should be a whole number, got 2.50." in held["reason"]


# --- flask mapping-import ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "content", "says"), MAPPING_CASES, ids=ids(MAPPING_CASES))
def test_mapping_import_refuses_a_malformed_file(
    run, http, org, db_session, tmp_path, name, content, says
) -> None:
    before = load_mapping(db_session, org.id)
    path = tmp_path / "map.json"
    path.write_bytes(content)
    assert one_line_on_stderr(run("mapping-import", "--org", org.id, path)) == f"{path}: {says}"
    assert len(http.calls) == 0  # refused before anything is asked of Xero
    db_session.expire_all()
    assert load_mapping(db_session, org.id) == before


# --- The mapping page's upload -----------------------------------------------------------------


def csrf_token(client, org_id: int) -> str:
    page = text_of(client.get(f"/orgs/{org_id}/mapping?from=manage"))
    found = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def multipart(values: dict[str, Any]) -> tuple[bytes, str]:
    """A form encoded in memory (the test client would spool a large one to a file left open)."""
    boundary, body = encode_multipart(values)
    return body, f"multipart/form-data; boundary={boundary}"


def upload(
    client, org_id: int, content: bytes, name: str = "upload.json", htmx: bool = True
) -> Any:
    token = csrf_token(client, org_id)
    body, content_type = multipart(
        {"csrf_token": token, "mapping_file": FileStorage(io.BytesIO(content), name)}
    )
    return client.post(
        f"/orgs/{org_id}/mapping/import",
        data=body,
        content_type=content_type,
        headers={**(HX if htmx else {}), "X-CSRFToken": token},
    )


def refusal(response: Any) -> list[str]:
    """The messages of a refused import, as the page lists them by the upload field."""
    body = text_of(response)
    assert response.status_code == 422, body[:500]
    assert body.strip().startswith('<div id="mapping-sections"')
    assert "Not imported." in body
    alert = body[body.index('<div class="inline-error" role="alert">') :]
    alert = alert[: alert.index("</div>")]
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", alert, re.S)]


@pytest.mark.parametrize(("name", "content", "says"), MAPPING_CASES, ids=ids(MAPPING_CASES))
def test_the_page_refuses_a_malformed_file_by_the_upload_field(
    client, org, db_session, name, content, says
) -> None:
    before = load_mapping(db_session, org.id)
    response = upload(client, org.id, content, "upload.json")
    assert refusal(response) == [f"upload.json: {says}"]
    db_session.expire_all()
    assert load_mapping(db_session, org.id) == before


def test_the_page_names_the_file_in_one_line(client, org) -> None:
    response = upload(client, org.id, b"{", "my \t  mapping.json")
    assert refusal(response) == [
        "my mapping.json: line 1 column 2: not valid JSON "
        "(Expecting property name enclosed in double quotes)"
    ]


@pytest.mark.parametrize("size", [3 * 1024 * 1024, 50 * 1024 * 1024])
def test_the_page_refuses_a_request_far_over_the_limit_as_a_form_error(
    client, org, db_session, size
) -> None:
    before = load_mapping(db_session, org.id)
    response = upload(client, org.id, b"x" * size, "big.json")
    assert refusal(response) == [TOO_LARGE]
    db_session.expire_all()
    assert load_mapping(db_session, org.id) == before


def test_without_htmx_a_request_over_the_limit_is_the_whole_page_with_the_form_error(
    client, org
) -> None:
    response = upload(client, org.id, b"x" * (3 * 1024 * 1024), "big.json", htmx=False)
    body = html.unescape(text_of(response))
    assert response.status_code == 422
    assert body.lstrip().lower().startswith("<!doctype html>")
    assert f"<li>{TOO_LARGE}</li>" in body


def test_a_request_over_the_limit_without_a_member_is_the_plain_error(app, org) -> None:
    stranger = app.test_client()  # signed out: no organisation is shown
    body, content_type = multipart(
        {"mapping_file": FileStorage(io.BytesIO(b"x" * 3 * 1024 * 1024), "b.json")}
    )
    response = stranger.post(f"/orgs/{org.id}/mapping/import", data=body, content_type=content_type)
    assert response.status_code == 413
    assert "Acme" not in text_of(response)


# --- At the limits: accepted by every path ------------------------------------------------------

AT_THE_LIMIT = json.dumps(uk_mapping(expense_default_account_code="461")).encode()
AT_THE_LIMIT += b" " * (MAX_FILE_BYTES - len(AT_THE_LIMIT))


def test_the_limit_is_exactly_2_mib() -> None:
    assert len(AT_THE_LIMIT) == MAX_FILE_BYTES
    assert read_json(AT_THE_LIMIT, "F", InputFileError)["version"] == 1
    with pytest.raises(InputFileError, match="larger than 2 MiB"):
        read_json(AT_THE_LIMIT + b" ", "F", InputFileError)


def test_a_2_mib_mapping_file_is_read_by_preview(run, tmp_path) -> None:
    args, _ = preview_files(tmp_path, mapping=AT_THE_LIMIT)
    result = run("preview", *args)
    assert result.exit_code == 0, result.output
    args, paths = preview_files(tmp_path, mapping=AT_THE_LIMIT + b" ")
    assert one_line_on_stderr(run("preview", *args)) == (
        f"{paths['mapping']}: $: the file is larger than 2 MiB, the most accepted"
    )


def test_a_2_mib_mapping_file_is_imported_by_the_command(run, http, org, db_session, tmp_path):
    mock_chart(http)
    path = tmp_path / "map.json"
    path.write_bytes(AT_THE_LIMIT)
    result = run("mapping-import", "--org", org.id, path)
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    assert load_mapping(db_session, org.id).expense_default_account_code == "461"


def test_a_2_mib_mapping_file_is_imported_by_the_page(client, org, db_session) -> None:
    response = upload(client, org.id, AT_THE_LIMIT, "full.json")
    assert response.status_code == 200, text_of(response)[:500]
    db_session.expire_all()
    assert load_mapping(db_session, org.id).expense_default_account_code == "461"


# --- A UTF-8 byte-order mark: accepted by every path -------------------------------------------

BOM_MAPPING = b"\xef\xbb\xbf" + json.dumps(uk_mapping(expense_default_account_code="461")).encode()


def test_a_utf8_bom_is_accepted_by_preview(run, tmp_path) -> None:
    args, _ = preview_files(tmp_path, mapping=BOM_MAPPING, chart=b"\xef\xbb\xbf" + b"{}")
    assert "CHART.json: $.Organisation: is missing" in run("preview", *args).stderr
    args, _ = preview_files(tmp_path, mapping=BOM_MAPPING)
    result = run("preview", *args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["documents"]


def test_a_utf8_bom_is_accepted_by_mapping_import(run, http, org, db_session, tmp_path) -> None:
    mock_chart(http)
    path = tmp_path / "map.json"
    path.write_bytes(BOM_MAPPING)
    result = run("mapping-import", "--org", org.id, path)
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    assert load_mapping(db_session, org.id).expense_default_account_code == "461"


def test_a_utf8_bom_is_accepted_by_the_page(client, org, db_session) -> None:
    response = upload(client, org.id, BOM_MAPPING, "bom.json")
    assert response.status_code == 200, text_of(response)[:500]
    assert "Mapping imported from bom.json" in text_of(response)
    db_session.expire_all()
    assert load_mapping(db_session, org.id).expense_default_account_code == "461"
