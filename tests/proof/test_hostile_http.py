"""Bad input 8: hostile HTTP, against every route the app has *when the test runs*.

The routes come from ``app.url_map``, so a page added later is covered without touching this
file: every rule with an ``org_id`` is requested (GET and POST, as it allows) by a signed-in
member of *another* organisation, with the victim's ids for the other arguments, and must answer
404 with nothing changed in the database (every table's rows hashed before and after) or in the
queues. Rules without ``org_id`` must be in a reviewed list (a new one fails until someone says
who may use it). Also: every POST without a CSRF token → 400; OAuth callbacks with a forged or
replayed state → refused; ``next`` never leads off-site; a webhook with a bad signature → 401;
oversized bodies → 413 and malformed ones → 4xx, never a 500.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import Counter
from datetime import UTC
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from plugin.db import get_engine
from plugin.infra.queues import QUEUE_NAMES
from plugin.infra.queues import get_queue
from plugin.models import AmazonConnection
from plugin.models import ImportRun
from plugin.models import LedgerEntry
from plugin.models import metadata
from tests.common.e2e import SANDBOX_DEFAULTS
from tests.proof.scenario import say

# Rules without an org_id, and who may use them. A new one must be added here on purpose.
PUBLIC_RULES = {
    "/": "landing page or the user's organisations",
    "/healthz": "health, no data",
    "/metrics": "operator metrics: bearer METRICS_TOKEN, or localhost only; 404 in production",
    "/logout": "POST, the user's own session",
    "/xero/connect": "starts OAuth",
    "/xero/callback": "OAuth callback, state-checked",
    "/xero/organisations": "picker of the orgs the user just consented to (session-bound)",
    "/xero/account/delete": "POST, the user's own account",
    "/xero/account/sign-out-everywhere": "POST, the user's own sessions",
    "/amazon/callback": "OAuth callback, state-checked",
    "/outbox": "development only; signed-in users: mail of their own organisations",
    "/webhooks/xero": "Xero webhook, HMAC-signed",
    "/static/<path:filename>": "static files",
}
EVIL = "https://evil.example/phish"
WEBHOOK_KEY = "proof-webhook-key"


@pytest.fixture
def app_config(app_config):
    app_config.update(SANDBOX_DEFAULTS)  # configured, as in production (no "not set up" 503s)
    app_config["XERO_WEBHOOK_KEY"] = WEBHOOK_KEY
    return app_config


@pytest.fixture
def victim_and_attacker(app, db_session, make_member, sign_in):
    """The victim's org with a connection, an import run and an entry; a signed-in attacker."""
    _victim_user, victim = make_member("victim-user", "tenant-victim", "Victim Ltd")
    attacker_user, attacker = make_member("attacker-user", "tenant-attacker", "Attacker Ltd")
    connection = AmazonConnection(organisation_id=victim.id, name="UK", store="UK", region="eu")
    run = ImportRun(
        organisation_id=victim.id,
        trigger="manual",
        range_start=datetime(2026, 1, 1, tzinfo=UTC),
        range_end=datetime(2026, 1, 2, tzinfo=UTC),
    )
    db_session.add_all([connection, run])
    db_session.commit()
    entry = LedgerEntry(
        organisation_id=victim.id,
        amazon_connection_id=connection.id,
        amazon_transaction_id="VICTIMTX000000000001",
        raw_payload={"transactionId": "VICTIMTX000000000001"},
        payload_hash="x",
        state="held",
        reason="test",
    )
    db_session.add(entry)
    db_session.commit()
    client = sign_in(app.test_client(), attacker_user)
    values = {
        "run_id": run.id,
        "connection_id": connection.id,
        "transaction_id": entry.amazon_transaction_id,
        "section": "payment-methods",
    }
    return client, victim, attacker, values


def snapshot(app) -> str:
    """A hash of every row of every table, and of the queues."""
    digest = hashlib.sha256()
    with get_engine(app).connect() as connection:
        for table in metadata.sorted_tables:
            rows = connection.execute(text(f'SELECT * FROM "{table.name}"')).fetchall()
            for row in sorted(repr(tuple(r)) for r in rows):
                digest.update(row.encode())
    for name in QUEUE_NAMES:
        digest.update(repr(get_queue(name, app).job_ids).encode())
    return digest.hexdigest()


def org_rules(app):
    return [r for r in app.url_map.iter_rules() if "org_id" in r.arguments]


def url_for_rule(rule, org_id, values):
    arguments = {"org_id": org_id}
    for name in rule.arguments - {"org_id"}:
        converter = rule._converters[name]  # werkzeug has no public accessor
        default = 1 if type(converter).__name__ == "IntegerConverter" else "x"
        arguments[name] = values.get(name, default)
    return rule.build(arguments)[1]


def methods_of(rule):
    return sorted(m for m in (rule.methods or set()) if m in {"GET", "POST", "PUT", "DELETE"})


def test_every_org_route_is_404_for_another_orgs_member(app, victim_and_attacker):
    client, victim, attacker, values = victim_and_attacker
    rules = org_rules(app)
    assert len(rules) >= 10, "the URL map should have the organisation pages"
    before = snapshot(app)
    checked = []
    for rule in rules:
        for org_id in (victim.id, attacker.id):
            if org_id == attacker.id and not (rule.arguments & set(values) - {"section"}):
                continue  # own org, no other id: the attacker's own page
            url = url_for_rule(rule, org_id, values)
            for method in methods_of(rule):
                for htmx in (False, True):
                    headers = {"HX-Request": "true"} if htmx else {}
                    answer = client.open(url, method=method, headers=headers, data={"x": "1"})
                    checked.append((method, url, answer.status_code))
                    assert answer.status_code == 404, (method, url, answer.status_code)
    assert snapshot(app) == before, "a refused request changed something"
    say(
        f"VERDICT hostile-cross-org: rules={len(rules)} requests={len(checked)} "
        f"non-404=0 db_changed=0"
    )


def test_routes_without_org_id_are_reviewed(app):
    public = {r.rule for r in app.url_map.iter_rules() if "org_id" not in r.arguments}
    assert public - set(PUBLIC_RULES) == set(), "new route: decide who may use it"


def test_signed_out_visitors_get_no_org_data(app, victim_and_attacker):
    _client, victim, _attacker, values = victim_and_attacker
    anonymous = app.test_client()
    before = snapshot(app)
    for rule in org_rules(app):
        url = url_for_rule(rule, victim.id, values)
        for method in methods_of(rule):
            answer = anonymous.open(url, method=method, data={"x": "1"})
            assert answer.status_code in (302, 401, 404), (method, url, answer.status_code)
            if answer.status_code == 302:
                assert urlsplit(answer.headers["Location"]).netloc in ("", "localhost")
    outbox = anonymous.get("/outbox")
    assert outbox.status_code in (302, 401, 404)
    assert snapshot(app) == before


def csrf_member_client(app_config, make_app):
    """An app as in production (CSRF on) and a signed-in member of one organisation."""
    from flask_login.utils import _create_identifier

    from plugin.db import session_scope
    from plugin.models import Membership
    from plugin.models import Organisation
    from plugin.models import User

    app_config["WTF_CSRF_ENABLED"] = True
    csrf_app = make_app(app_config)
    with session_scope(csrf_app) as db:
        user = User(xero_user_id="csrf-user", email="c@example.com", name="C")
        org = Organisation(xero_tenant_id="tenant-csrf", name="Csrf Ltd")
        db.add_all([user, org])
        db.commit()
        db.add(Membership(user_id=user.id, organisation_id=org.id))
        db.commit()
        token, org_id = user.session_token, org.id
    client = csrf_app.test_client()
    with csrf_app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
        session["_id"] = identifier
    return csrf_app, client, org_id


def post_urls(app, org_id):
    values = {"run_id": 1, "connection_id": 1, "section": "payment-methods"}
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()):
            continue
        if "org_id" in rule.arguments:
            yield rule.rule, url_for_rule(rule, org_id, values)
        else:
            yield rule.rule, rule.build({})[1]


def test_posts_without_csrf_token_are_400(app_config, make_app):
    csrf_app, client, org_id = csrf_member_client(app_config, make_app)
    assert client.get("/").status_code == 200
    refused = 0
    for rule, url in post_urls(csrf_app, org_id):
        if rule == "/webhooks/xero":
            continue  # signed by Xero instead (test_webhook_signatures)
        answer = client.post(url, data={"x": "1"})
        assert answer.status_code == 400, (url, answer.status_code)
        refused += 1
    say(f"VERDICT hostile-csrf: post_rules={refused} refused=400x{refused}")


@pytest.mark.parametrize("path", ["/xero/callback", "/amazon/callback"])
@pytest.mark.parametrize(
    "query", ["state=forged&code=abc", "code=abc", "state=&code=abc", "state=x&error=denied"]
)
def test_oauth_callbacks_with_forged_state_are_refused(app, victim_and_attacker, path, query):
    client, *_ = victim_and_attacker
    before = snapshot(app)
    answer = client.get(f"{path}?{query}")
    assert answer.status_code in (400, 403, 404) or (
        answer.status_code == 302 and "callback" not in answer.headers["Location"]
    ), (path, query, answer.status_code)
    assert answer.status_code < 500
    assert snapshot(app) == before


def test_next_never_leads_off_site(app, victim_and_attacker):
    client, *_ = victim_and_attacker
    anonymous = app.test_client()
    for who in (client, anonymous):
        for path in ("/", "/xero/connect", "/outbox", "/xero/organisations", "/logout"):
            for name in ("next", "return_to", "redirect"):
                for method in ("GET", "POST"):
                    answer = who.open(f"{path}?{name}={EVIL}", method=method)
                    location = answer.headers.get("Location", "")
                    assert "evil.example" not in urlsplit(location).netloc, (path, location)


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(WEBHOOK_KEY.encode(), body, hashlib.sha256).digest()).decode()


def test_webhook_signatures(app, victim_and_attacker):
    client, *_ = victim_and_attacker
    body = b'{"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": "x"}'
    before = snapshot(app)
    for signature in (None, "", "bad", sign(body + b" "), sign(body)[:-2] + "AA"):
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["x-xero-signature"] = signature
        answer = client.post("/webhooks/xero", data=body, headers=headers)
        assert answer.status_code == 401, (signature, answer.status_code)
    assert snapshot(app) == before
    good = client.post(
        "/webhooks/xero",
        data=body,
        headers={"Content-Type": "application/json", "x-xero-signature": sign(body)},
    )
    assert good.status_code == 200


MALFORMED = [
    ("application/json", b"{not json"),
    ("application/json", b"[1, 2, {"),
    ("application/json", b'{"a": ' * 5000),
    ("application/x-www-form-urlencoded", b"%%%=%%%&a=%ZZ&" * 100),
    ("application/x-www-form-urlencoded", b"a=" + b"\xff\xfe" * 100),
    ("multipart/form-data; boundary=xyz", b"--xyz\r\nbroken"),
    ("text/plain", "\u0000\ud7ff".encode("utf-8", "surrogatepass")),
]


def test_oversized_and_malformed_bodies_never_500(app_config, make_app):
    csrf_app, client, org_id = csrf_member_client(app_config, make_app)
    big = b"a=" + b"x" * (3 * 1024 * 1024)
    counts = {"413": 0, "form": 0}
    statuses: Counter[int] = Counter()
    for rule, url in post_urls(csrf_app, org_id):
        answer = client.post(url, data=big, content_type="application/x-www-form-urlencoded")
        if rule.endswith("/mapping/import"):
            # The upload answers with its own form, not the 413 page (tests/mapping/
            # test_malformed_files.py); this org has no Xero tokens, so the form says reconnect.
            assert answer.status_code == 503, (url, answer.status_code)
            assert "Too Large" not in answer.get_data(as_text=True)
            counts["form"] += 1
            continue
        assert answer.status_code == 413, (url, answer.status_code)
        counts["413"] += 1
    # Past the CSRF check (as a member with a valid token would be): the views themselves.
    csrf_app.config["WTF_CSRF_ENABLED"] = False
    for rule, url in post_urls(csrf_app, org_id):
        if rule in ("/logout", "/xero/account/delete"):
            continue  # would end the session / delete the member
        for content_type, body in MALFORMED:
            for headers in ({}, {"HX-Request": "true"}):
                answer = client.post(url, data=body, content_type=content_type, headers=headers)
                page = answer.get_data(as_text=True)
                # 503 is a deliberate page here (this org has no Xero tokens: "reconnect").
                assert answer.status_code != 500, (url, content_type, page[:300])
                assert "Something went wrong" not in page
                statuses[answer.status_code] += 1
    seen = ",".join(f"{k}x{v}" for k, v in sorted(statuses.items()))
    oversized = f"{counts['413']}x413,{counts['form']}xform"
    say(f"VERDICT hostile-bodies: oversized={oversized} malformed={seen} 500s=0")


# --- Stale members and replayed cookies (issue 18 point 8) ---------------------------------------

SIGNED_OUT = (302, 401)  # to the landing page (HX-Redirect for HTMX)
STALE_KINDS = {
    # kind: what must answer every organisation route afterwards
    "removed-member": (404,),  # still signed in, the membership gone (Xero access removed)
    "cookie-copied-before-logout": SIGNED_OUT,
    "cookie-copied-before-sign-out-everywhere": SIGNED_OUT,
    "cookie-copied-before-account-deletion": SIGNED_OUT,
}


def stale_browser(app, db_session, user, org, client, kind):
    """Make ``client``'s session stale in the way ``kind`` names; return the browser to try."""
    from sqlmodel import select

    from plugin.models import Membership

    cookie = client.get_cookie("session").value
    if kind == "removed-member":
        membership = db_session.exec(
            select(Membership).where(
                Membership.user_id == user.id, Membership.organisation_id == org.id
            )
        ).one()
        db_session.delete(membership)  # ends the user's sessions too (memberships changed)
        db_session.commit()
        old = app.test_client()
        old.set_cookie("session", cookie)
        assert old.get(f"/orgs/{org.id}/manage").status_code in SIGNED_OUT
        return sign_in_again(app, db_session, user)  # signed in afresh: still not a member
    endpoint = {
        "cookie-copied-before-logout": "/logout",
        "cookie-copied-before-sign-out-everywhere": "/xero/account/sign-out-everywhere",
        "cookie-copied-before-account-deletion": "/xero/account/delete",
    }[kind]
    assert client.post(endpoint).status_code in (200, 302)
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def sign_in_again(app, db_session, user):
    from tests.common.web import sign_in_on

    db_session.refresh(user)
    return sign_in_on(app, app.test_client(), user)


@pytest.mark.parametrize("kind", sorted(STALE_KINDS))
def test_stale_members_and_replayed_cookies_reach_no_org_route(
    app, db_session, make_member, sign_in, kind
):
    user, org = make_member("stale-user", "tenant-stale", "Stale Member Ltd")
    client = sign_in(app.test_client(), user)
    assert client.get(f"/orgs/{org.id}/manage").status_code == 200  # a member, before
    values = {
        "run_id": 1,
        "connection_id": 1,
        "transaction_id": "TX1",
        "section": "payment-methods",
    }
    browser = stale_browser(app, db_session, user, org, client, kind)
    before = snapshot(app)
    allowed = STALE_KINDS[kind]
    requests_made = 0
    for rule in org_rules(app):
        url = url_for_rule(rule, org.id, values)
        for method in methods_of(rule):
            for headers in ({}, {"HX-Request": "true"}):
                answer = browser.open(url, method=method, headers=headers, data={"x": "1"})
                requests_made += 1
                assert answer.status_code in allowed, (kind, method, url, answer.status_code)
                assert "Stale Member Ltd" not in answer.get_data(as_text=True), (kind, url)
    assert "Stale Member Ltd" not in browser.get("/").get_data(as_text=True)
    assert snapshot(app) == before, "a refused request changed something"
    say(f"VERDICT hostile-stale {kind}: requests={requests_made} reached=0 db_changed=0")
