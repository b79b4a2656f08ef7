"""getTransactions through the client: headers, paging, windows, parsing, errors, retries,
rate limits."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
import requests
from responses import matchers

from plugin.amazon.errors import AmazonBadRequest
from plugin.amazon.errors import AmazonError
from plugin.amazon.errors import AmazonForbidden
from plugin.amazon.errors import AmazonMalformedPage
from plugin.amazon.errors import AmazonNeedsReconnect
from plugin.amazon.errors import AmazonNotFound
from plugin.amazon.errors import AmazonRateLimited
from plugin.amazon.errors import AmazonUnavailable
from plugin.amazon.models import MalformedPage
from plugin.amazon.paging import amazon_time
from plugin.amazon.paging import split_window
from plugin.infra.ratelimit import TokenBucket
from tests.common.amazon import TX_URL
from tests.common.amazon_payloads import transaction

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 20, tzinfo=UTC)
FIRST_PAGE = {"feedStartDate": "2026-01-01T00:00:00Z", "feedEndDate": "2026-01-20T00:00:00Z"}


def error(code, message="m", details="d"):
    return {"errors": [{"code": code, "message": message, "details": details}]}


def page(*ids, token=None):
    body = {"transactions": [transaction(transaction_id=i) for i in ids]}
    if token:
        body["nextPageToken"] = token
    return body


def first_page_call(http, body=None, status=200, **kwargs):
    http.get(
        TX_URL,
        match=[matchers.query_param_matcher(FIRST_PAGE)],
        json=body if body is not None else page("T1"),
        status=status,
        **kwargs,
    )


def fetch_all(client, start=START, end=END):
    return list(client.iter_transaction_pages(start, end))


def test_every_request_names_the_app_sends_the_token_and_a_timeout(http, make_client):
    first_page_call(http, headers={"x-amzn-RequestId": "req-1"})
    fetch_all(make_client())
    request = http.calls[0].request
    assert request.headers["x-amz-access-token"] == "Atza|first"
    assert request.headers["accept"] == "application/json"
    assert "Authorization" not in request.headers
    assert re.fullmatch(
        r"AmazonBusinessForXero/\S+ \(Language=Python/3\.\d+; Platform=\w+\)",
        request.headers["user-agent"],
    )
    assert request.req_kwargs["timeout"] == (5.0, 30.0)


def test_pages_follow_next_page_token_sent_alone(http, make_client):
    first_page_call(http, page("T1", "T2", token="tok/2+=="))
    http.get(
        TX_URL,
        match=[matchers.query_param_matcher({"nextPageToken": "tok/2+=="})],
        json=page("T3", token="tok3"),
    )
    http.get(
        TX_URL, match=[matchers.query_param_matcher({"nextPageToken": "tok3"})], json=page("T4")
    )
    pages = fetch_all(make_client())
    assert [[t.transaction_id for t in p.transactions] for p in pages] == [
        ["T1", "T2"],
        ["T3"],
        ["T4"],
    ]
    assert [p.number for p in pages] == [1, 2, 3]
    assert pages[2].label == (
        "Amazon Business UK transactions 2026-01-01T00:00:00Z..2026-01-20T00:00:00Z, page 3"
    )
    assert "feedStartDate" not in http.calls[1].request.url


def test_long_windows_are_split_into_chunks(http, make_client):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=70)
    for chunk_start, chunk_end in [(0, 30), (30, 60), (60, 70)]:
        http.get(
            TX_URL,
            match=[
                matchers.query_param_matcher(
                    {
                        "feedStartDate": amazon_time(start + timedelta(days=chunk_start)),
                        "feedEndDate": amazon_time(start + timedelta(days=chunk_end)),
                    }
                )
            ],
            json=page(f"T{chunk_start}"),
        )
    pages = fetch_all(make_client(), start, end)
    assert [p.window_start for p in pages] == [start + timedelta(days=d) for d in (0, 30, 60)]


def test_window_size_is_configurable_and_end_rounds_up(http, make_client):
    end = START + timedelta(hours=5, microseconds=1)
    for hours in (0, 2, 4):
        last = min(end, START + timedelta(hours=hours + 2))
        http.get(
            TX_URL,
            match=[
                matchers.query_param_matcher(
                    {
                        "feedStartDate": amazon_time(START + timedelta(hours=hours)),
                        "feedEndDate": amazon_time(last, round_up=True),
                    }
                )
            ],
            json=page(),
        )
    pages = fetch_all(make_client(max_feed_window=timedelta(hours=2)), START, end)
    assert len(pages) == 3
    assert "feedEndDate=2026-01-01T05%3A00%3A01Z" in http.calls[2].request.url


def test_split_window_and_bad_windows():
    assert split_window(START, START, timedelta(days=1)) == []
    with pytest.raises(ValueError, match="positive"):
        split_window(START, END, timedelta(0))


@pytest.mark.parametrize(
    ("start", "end"),
    [(END, START), (START, START), (START.replace(tzinfo=None), END)],
    ids=["reversed", "empty", "naive"],
)
def test_bad_window_is_a_programming_error(make_client, start, end):
    with pytest.raises(ValueError, match=r"window|timezone"):
        fetch_all(make_client(), start, end)


def test_bad_transaction_is_a_failure_with_a_reason_not_an_exception(http, make_client):
    broken = transaction(transaction_id="BAD1")
    broken["amount"]["amount"] = "12.3.4"
    body = {"transactions": [transaction(transaction_id="OK1"), broken, "nonsense"]}
    first_page_call(http, body)
    (only,) = fetch_all(make_client())
    assert [t.transaction_id for t in only.transactions] == ["OK1"]
    assert [f.transaction_id for f in only.failures] == ["BAD1", None]
    assert "amount" in only.failures[0].reason
    assert "should be an object" in only.failures[1].reason


@pytest.mark.parametrize(
    "body",
    [
        {"transactions": "none"},
        {"nextPageToken": "x"},
        [],
        {"transactions": [], "nextPageToken": 5},
    ],
    ids=["not-a-list", "missing", "array", "token-not-text"],
)
def test_malformed_page_names_the_page(http, make_client, body):
    first_page_call(http, page("T1", token="t2"))
    http.get(TX_URL, match=[matchers.query_param_matcher({"nextPageToken": "t2"})], json=body)
    pages = make_client().iter_transaction_pages(START, END)
    assert next(pages).number == 1
    with pytest.raises(
        AmazonMalformedPage, match=r"Amazon Business UK transactions .*, page 2"
    ) as caught:
        next(pages)
    assert isinstance(caught.value, MalformedPage)


def test_non_json_page_is_malformed(http, make_client):
    http.get(TX_URL, body="<html>oops</html>")
    with pytest.raises(AmazonMalformedPage, match="page 1: Amazon's answer is not JSON"):
        fetch_all(make_client())


def test_a_repeated_page_token_stops_instead_of_looping(http, make_client):
    first_page_call(http, page("T1", token="same"))
    http.get(TX_URL, json=page("T2", token="same"))
    with pytest.raises(AmazonMalformedPage, match="already sent"):
        fetch_all(make_client())


# --- Errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "INVALID_REQUEST_PARAMETER", AmazonBadRequest),
        (400, "InvalidInput", AmazonBadRequest),
        (400, "400", AmazonBadRequest),
        (403, "AccessDenied", AmazonForbidden),
        (404, "NOT_FOUND", AmazonNotFound),
        (413, "RequestEntityTooLarge", AmazonBadRequest),
        (415, "UnsupportedMediaType", AmazonBadRequest),
        (418, "Teapot", AmazonError),
    ],
)
def test_documented_errors_map_to_our_types(http, make_client, fake_tokens, status, code, expected):
    http.get(
        TX_URL,
        status=status,
        json=error(
            code, "Access to requested resource is denied" if status == 403 else "Bad", "why"
        ),
        headers={"x-amzn-RequestId": "rid-42"},
    )
    with pytest.raises(expected) as caught:
        fetch_all(make_client())
    failure = caught.value
    assert type(failure) is expected
    assert (failure.status, failure.code, failure.details) == (status, code, "why")
    assert failure.request_id == "rid-42"
    assert "rid-42" in str(failure)
    assert fake_tokens.refreshes == 0
    assert len(http.calls) == 1


def test_error_without_documented_body_still_maps(http, make_client):
    http.get(TX_URL, status=400, body="<html>Bad Request</html>")
    with pytest.raises(AmazonBadRequest, match="Bad Request"):
        fetch_all(make_client())


def test_expired_token_403_refreshes_once_and_retries(http, make_client, fake_tokens):
    http.get(
        TX_URL,
        status=403,
        json=error(
            "Unauthorized",
            "Access to requested resource is denied.",
            "The access token you provided has expired.",
        ),
    )
    http.get(
        TX_URL,
        match=[matchers.header_matcher({"x-amz-access-token": "Atza|refreshed-1"})],
        json=page("T1"),
    )
    (only,) = fetch_all(make_client())
    assert only.transactions[0].transaction_id == "T1"
    assert fake_tokens.refreshes == 1


def test_403_again_after_refresh_is_forbidden(http, make_client, fake_tokens):
    for _ in range(2):
        http.get(TX_URL, status=403, json=error("Unauthorized", "Expired Token", ""))
    with pytest.raises(AmazonForbidden, match="administrator of every legal entity"):
        fetch_all(make_client())
    assert fake_tokens.refreshes == 1


def test_401_twice_marks_the_connection_needs_reconnect(http, make_client, fake_tokens):
    for _ in range(2):
        http.get(TX_URL, status=401, json=error("Unauthorized", "Invalid token", ""))
    with pytest.raises(AmazonNeedsReconnect):
        fetch_all(make_client())
    assert fake_tokens.refreshes == 1
    assert len(fake_tokens.reconnect_reasons) == 1


# --- Retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_throttled_or_failing_then_success(http, make_client, clock, status):
    http.get(
        TX_URL, status=status, json=error("QuotaExceeded" if status == 429 else "InternalFailure")
    )
    first_page_call(http)
    (only,) = fetch_all(make_client())
    assert only.transactions[0].transaction_id == "T1"
    assert len(clock.sleeps) == 1
    assert 0.5 <= clock.sleeps[0] <= 1.0  # first backoff: 1 s with jitter


def test_retry_cap_reached_raises_rate_limited_with_retry_after(http, make_client, clock):
    for _ in range(4):
        http.get(TX_URL, status=429, json=error("QuotaExceeded", "You exceeded your quota"))
    with pytest.raises(AmazonRateLimited) as caught:
        fetch_all(make_client())
    assert caught.value.retry_after > 0
    assert len(clock.sleeps) == 3
    assert clock.sleeps[0] < clock.sleeps[1] < clock.sleeps[2] <= 30  # exponential, jittered


def test_server_errors_past_the_cap_are_unavailable(http, make_client, clock):
    for _ in range(4):
        http.get(
            TX_URL, status=503, json=error("ServiceUnavailable", "Service temporarily unavailable.")
        )
    with pytest.raises(AmazonUnavailable, match="kept failing") as caught:
        fetch_all(make_client())
    assert caught.value.retry_after > 0
    assert caught.value.code == "ServiceUnavailable"


def test_retry_after_header_is_honoured(http, make_client, clock):
    http.get(TX_URL, status=429, json=error("QuotaExceeded"), headers={"Retry-After": "3"})
    first_page_call(http)
    fetch_all(make_client())
    assert clock.sleeps == [3.0]


def test_a_long_retry_after_is_not_slept(http, make_client, clock):
    http.get(TX_URL, status=429, json=error("QuotaExceeded"), headers={"Retry-After": "120"})
    with pytest.raises(AmazonRateLimited) as caught:
        fetch_all(make_client())
    assert caught.value.retry_after == 120
    assert clock.sleeps == []


def test_connection_errors_are_retried(http, make_client, clock):
    http.get(TX_URL, body=requests.ConnectionError("reset"))
    first_page_call(http)
    fetch_all(make_client())
    assert len(clock.sleeps) == 1


def test_timeouts_past_the_cap_are_unavailable(http, make_client, clock):
    for _ in range(4):
        http.get(TX_URL, body=requests.Timeout("slow"))
    with pytest.raises(AmazonUnavailable, match="did not answer"):
        fetch_all(make_client())


# --- Rate limiting ----------------------------------------------------------------------------


def test_bucket_per_connection_and_operation_paces_calls(http, make_client, clock, redis_client):
    limiter = TokenBucket(redis_client, clock=clock, sleep=clock.sleep)
    client = make_client(limiter=limiter, max_feed_window=timedelta(days=1))
    start = START
    for day in range(12):
        http.get(TX_URL, json=page(f"T{day}"))
    pages = fetch_all(client, start, start + timedelta(days=12))
    assert len(pages) == 12
    assert clock.sleeps == [0.5, 0.5]  # burst 10, then 2 per second
    assert redis_client.exists("ratelimit:bucket:amazon:7:getTransactions")


def test_amazons_lower_rate_limit_header_slows_us_down(http, make_client, clock, redis_client):
    limiter = TokenBucket(redis_client, clock=clock, sleep=clock.sleep)
    client = make_client(limiter=limiter, max_feed_window=timedelta(days=1))
    for day in range(11):
        http.get(TX_URL, json=page(f"T{day}"), headers={"x-amzn-RateLimit-Limit": "0.5"})
    fetch_all(client, START, START + timedelta(days=11))
    assert clock.sleeps == [2.0]


def test_a_long_limiter_wait_becomes_rate_limited(http, make_client, clock, redis_client):
    limiter = TokenBucket(redis_client, clock=clock, sleep=clock.sleep)
    client = make_client(limiter=limiter, limiter_max_wait=0.1)
    for _ in range(10):
        limiter.take("amazon:7:getTransactions", 2.0, 10)
    with pytest.raises(AmazonRateLimited, match="rate limit") as caught:
        fetch_all(client)
    assert caught.value.retry_after == pytest.approx(0.5)
    assert len(http.calls) == 0
