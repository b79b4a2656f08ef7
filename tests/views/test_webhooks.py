"""Xero webhooks: signature check, intent-to-receive, de-duplication, queued contact checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from plugin.infra.queues import get_queue

KEY = "webhook-key-123"


@pytest.fixture
def hook_app(app_config, make_app):
    app_config["XERO_WEBHOOK_KEY"] = KEY
    app_config["WTF_CSRF_ENABLED"] = True  # the webhook must work without a CSRF token
    return make_app(app_config)


def sign(body: bytes, key: str = KEY) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def post(client, payload, signature=None):
    body = json.dumps(payload).encode()
    return client.post(
        "/webhooks/xero",
        data=body,
        content_type="application/json",
        headers={"x-xero-signature": signature if signature is not None else sign(body)},
    )


INTENT = {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": "XYZ"}


def test_intent_to_receive_handshake(hook_app):
    client = hook_app.test_client()
    good = post(client, INTENT)
    assert good.status_code == 200
    assert good.data == b""
    assert "Set-Cookie" not in good.headers
    bad = post(client, INTENT, signature=sign(b"something else"))
    assert bad.status_code == 401
    assert bad.data == b""


def test_missing_signature_is_refused(hook_app):
    response = hook_app.test_client().post("/webhooks/xero", data=b"{}")
    assert response.status_code == 401


def test_contact_event_queues_one_check_and_duplicates_are_ignored(hook_app, make_member):
    _, org = make_member("alice", "tenant-1", amazon_contact_id="contact-1")
    event = {
        "resourceId": "contact-1",
        "eventDateUtc": "2026-11-23T10:00:00.000",
        "eventType": "UPDATE",
        "eventCategory": "CONTACT",
        "tenantId": "tenant-1",
        "tenantType": "ORGANISATION",
    }
    other_contact = {**event, "resourceId": "someone-else"}
    payload = {"events": [event, other_contact], "firstEventSequence": 1, "lastEventSequence": 2}
    client = hook_app.test_client()
    assert post(client, payload).status_code == 200
    queue = get_queue("default", hook_app)
    assert queue.job_ids == [f"contact-check-{org.id}"]
    job = queue.fetch_job(f"contact-check-{org.id}")
    assert job.func_name == "jobs.xero.check_contact"
    assert job.args == (org.id,)
    queue.empty()
    assert post(client, payload).status_code == 200  # the same delivery again
    assert queue.count == 0


@pytest.mark.parametrize("events", [5, "CONTACT", {"eventCategory": "CONTACT"}, True])
def test_signed_events_that_are_not_a_list_are_a_400_not_a_500(hook_app, events):
    body = json.dumps({"events": events}).encode()
    response = hook_app.test_client().post(
        "/webhooks/xero", data=body, headers={"x-xero-signature": sign(body)}
    )
    assert response.status_code == 400


def test_malformed_but_signed_body_is_a_400_not_a_500(hook_app):
    body = b"not json"
    response = hook_app.test_client().post(
        "/webhooks/xero", data=body, headers={"x-xero-signature": sign(body)}
    )
    assert response.status_code == 400
