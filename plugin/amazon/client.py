"""The Amazon Business API client: one ``AmazonBusinessClient`` per store connection.

It owns everything about talking to the Reconciliation and Document APIs (spec §3, §4, §6):
the regional base URL, the ``x-amz-access-token`` header (no SigV4), a user agent naming the
app, ``accept: application/json``, a timeout on every request, per-operation rate limits in
Redis (``TokenBucket`` keyed by connection and operation, so every worker shares them),
retries, and turning Amazon's errors into ours (``plugin.amazon.errors``).

Decisions:

- Retries: 429, 500, 502, 503, 504 and connection errors/time-outs are retried with jittered
  exponential backoff (1, 2, 4 … ≤ 30 s, "equal jitter": half fixed, half random), honouring a
  ``Retry-After`` header when Amazon sends one, for at most ``RetryPolicy.max_attempts``
  attempts; then ``AmazonRateLimited``/``AmazonUnavailable`` carry ``retry_after`` so the job
  can re-queue itself instead of holding a worker. A wait longer than the cap is not slept.
- 401, or a 403 whose error mentions the token (expired, invalid, unauthorized): refresh the
  access token once and retry. A 401 after that marks the connection ``needs_reconnect``
  (spec §6); a 403 after that is ``AmazonForbidden`` (access denied or a missing API role).
- ``x-amzn-RateLimit-Limit`` lower than our default for an operation lowers our rate for the
  rest of the client's life (spec §3.1: an older page gave getTransactions 0.5/s).
- getTransactions windows longer than ``max_feed_window`` (30 days by default) are split into
  consecutive chunks sharing their boundaries. Amazon documents no maximum (its example spans
  16 months), so the chunk size is our choice: it bounds the work lost to one failure and
  gives progress per chunk. A transaction on a boundary may come twice; the ledger dedupes on
  ``transactionId``. ``feedEndDate`` is rounded *up* to the second so nothing is cut off.
- Pages are parsed by ``plugin.amazon.models``: a bad transaction comes back as a
  ``ParseFailure`` with a reason; a page that is not a ``TransactionsResponse`` (or not JSON)
  raises ``AmazonMalformedPage`` (also a ``MalformedPage``) naming the window and page number.
  ``nextPageToken`` is sent alone; a token Amazon already sent stops with an error (no loop).
- Invoice lookups go in batches of 25 (the documented maximum), duplicates removed, results
  in input order. An invoice id Amazon would reject (empty, > 255 characters) gets a local
  ``ERROR`` result instead of failing its whole batch.
- PDFs (Document API): createReport → poll getReport with backoff (2, 4, 8 … ≤ 30 s, up to
  ``ReportPolling.timeout``; then ``AmazonReportPending`` with the report id so a later job can
  resume with ``wait_for_report``) → getReportDocument → download the presigned URL with no
  access token, gunzip when ``compressionAlgorithm`` is GZIP, and check the bytes are a PDF.
"""

from __future__ import annotations

import logging
import random
import time
import zlib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol

import requests

from plugin.amazon.errors import AmazonBadRequest
from plugin.amazon.errors import AmazonError
from plugin.amazon.errors import AmazonForbidden
from plugin.amazon.errors import AmazonMalformedPage
from plugin.amazon.errors import AmazonMalformedResponse
from plugin.amazon.errors import AmazonNeedsReconnect
from plugin.amazon.errors import AmazonNotFound
from plugin.amazon.errors import AmazonRateLimited
from plugin.amazon.errors import AmazonReportFailed
from plugin.amazon.errors import AmazonReportPending
from plugin.amazon.errors import AmazonUnavailable
from plugin.amazon.http import DEFAULT_TIMEOUT
from plugin.amazon.http import USER_AGENT
from plugin.amazon.http import ErrorBody
from plugin.amazon.http import parse_error_body
from plugin.amazon.http import request_id_of
from plugin.amazon.invoices import InvoicePaymentResult
from plugin.amazon.invoices import LineItemInvoices
from plugin.amazon.invoices import LineItemKey
from plugin.amazon.invoices import PaymentError
from plugin.amazon.invoices import parse_invoice_details
from plugin.amazon.invoices import parse_payment_details
from plugin.amazon.models import MalformedPage
from plugin.amazon.models import ParseFailure
from plugin.amazon.models import Transaction
from plugin.amazon.models import TransactionsPage
from plugin.amazon.models import parse_transactions_page
from plugin.amazon.regions import Store
from plugin.amazon.regions import api_base_url
from plugin.amazon.regions import store_for
from plugin.infra.ratelimit import RateLimitWait
from plugin.infra.ratelimit import TokenBucket

if TYPE_CHECKING:
    import redis

    from plugin.amazon.auth import AmazonSettings
    from plugin.amazon.auth import SessionFactory
    from plugin.models import AmazonConnection
    from plugin.security import TokenCipher

log = logging.getLogger(__name__)

TRANSACTIONS_PATH = "/reconciliation/2021-01-08/transactions"
INVOICES_PATH = "/reconciliation/2021-01-08/invoices"
PAYMENT_DETAILS_PATH = "/reconciliation/2021-01-08/invoices/batch/paymentDetails"
REPORTS_PATH = "/reports/2021-09-30/reports"
DOCUMENTS_PATH = "/reports/2021-09-30/documents"
INVOICE_REPORT_TYPE = "GET_AB_INVOICE_PDF"
BATCH_SIZE = 25
MAX_INVOICE_ID_LENGTH = 255
DEFAULT_FEED_WINDOW = timedelta(days=30)
MAX_PDF_BYTES = 50 * 1024 * 1024
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
TOKEN_WORDS = ("token", "expired", "unauthorized", "unauthorised", "signature", "credential")


@dataclass(frozen=True)
class OperationLimit:
    """Amazon's token bucket for one operation: requests per second and burst."""

    rate: float
    burst: int


# Spec §6 and §4. getReport / getReportDocument are UNCONFIRMED (SP-API twins).
OPERATION_LIMITS: dict[str, OperationLimit] = {
    "getTransactions": OperationLimit(2.0, 10),
    "getInvoiceDetailsByOrderLineItems": OperationLimit(2.0, 10),
    "getBatchInvoicePaymentDetails": OperationLimit(2.0, 10),
    "createReport": OperationLimit(1 / 60, 15),
    "getReport": OperationLimit(2.0, 15),
    "getReportDocument": OperationLimit(0.0167, 15),
}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry 429/5xx/connection failures."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, retry_number: int, rng: random.Random) -> float:
        """Seconds before retry ``retry_number`` (1-based): exponential, equal jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class ReportPolling:
    """How to wait for a Document API report: growing pauses, then give up for now."""

    first_delay: float = 2.0
    max_delay: float = 30.0
    timeout: float = 300.0
    retry_after: float = 60.0


class TokenSource(Protocol):
    """What the client needs from the token side (``auth.AccessTokenProvider``)."""

    def access_token(self) -> str: ...

    def refresh(self) -> str: ...

    def mark_needs_reconnect(self, why: str) -> str: ...


@dataclass(frozen=True)
class FetchedPage:
    """One getTransactions page: where it came from, and what parsed and what did not."""

    label: str
    window_start: datetime
    window_end: datetime
    number: int
    page: TransactionsPage

    @property
    def transactions(self) -> tuple[Transaction, ...]:
        """The transactions that parsed."""
        return self.page.transactions

    @property
    def failures(self) -> tuple[ParseFailure, ...]:
        """The transactions that did not parse, each with its reason."""
        return self.page.failures


def amazon_time(moment: datetime, round_up: bool = False) -> str:
    """``2025-01-01T00:00:00Z`` (UTC, whole seconds) for a timezone-aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("feed dates must be timezone-aware")
    moment = moment.astimezone(UTC)
    if round_up and moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def split_window(
    start: datetime, end: datetime, size: timedelta
) -> list[tuple[datetime, datetime]]:
    """Consecutive ``(start, end)`` chunks of at most ``size`` covering ``start``..``end``."""
    if size <= timedelta(0):
        raise ValueError("the window size must be positive")
    chunks = []
    cursor = start
    while cursor < end:
        chunk_end = min(end, cursor + size)
        chunks.append((cursor, chunk_end))
        cursor = chunk_end
    return chunks


def _unique(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _batches(values: list[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    for index in range(0, len(values), size):
        yield values[index : index + size]


class AmazonBusinessClient:
    """The Reconciliation and Document APIs for one Amazon Business store connection."""

    def __init__(
        self,
        *,
        base_url: str,
        tokens: TokenSource,
        connection_id: int | str,
        store: Store,
        limiter: TokenBucket | None = None,
        http: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        polling: ReportPolling | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        max_feed_window: timedelta = DEFAULT_FEED_WINDOW,
        limiter_max_wait: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.connection_id = connection_id
        self.store = store
        self.limiter = limiter
        self.http = http or requests.Session()
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.polling = polling or ReportPolling()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.max_feed_window = max_feed_window
        self.limiter_max_wait = limiter_max_wait
        self._limits = dict(OPERATION_LIMITS)

    @classmethod
    def for_connection(
        cls,
        connection: AmazonConnection,
        settings: AmazonSettings,
        session_factory: SessionFactory,
        cipher: TokenCipher,
        redis_client: redis.Redis | None = None,
        **options: Any,
    ) -> AmazonBusinessClient:
        """A client for a stored connection, from plain settings (jobs, CLI, views alike)."""
        from plugin.amazon.auth import token_provider_for

        assert connection.id is not None
        store = store_for(connection.store)
        tokens = token_provider_for(settings, connection.id, session_factory, cipher)
        return cls(
            base_url=api_base_url(store, settings.api_url_template),
            tokens=tokens,
            connection_id=connection.id,
            store=store,
            limiter=TokenBucket(redis_client) if redis_client is not None else None,
            **options,
        )

    def close(self) -> None:
        """Release HTTP connection pools (ours and the token provider's)."""
        self.http.close()
        close = getattr(self.tokens, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> AmazonBusinessClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- getTransactions ------------------------------------------------------------------

    def iter_transaction_pages(self, start: datetime, end: datetime) -> Iterator[FetchedPage]:
        """Every page of transactions whose feed date is in ``start``..``end``, in order."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("feed dates must be timezone-aware")
        if start >= end:
            raise ValueError("the feed window must end after it starts")
        for window_start, window_end in split_window(start, end, self.max_feed_window):
            yield from self._window_pages(window_start, window_end)

    def _window_pages(self, start: datetime, end: datetime) -> Iterator[FetchedPage]:
        window = f"{amazon_time(start)}..{amazon_time(end, round_up=True)}"
        params: dict[str, str] = {
            "feedStartDate": amazon_time(start),
            "feedEndDate": amazon_time(end, round_up=True),
        }
        seen_tokens: set[str] = set()
        number = 1
        while True:
            label = f"{self.store.display_name} transactions {window}, page {number}"
            response = self._call("getTransactions", "GET", TRANSACTIONS_PATH, params=params)
            page = self._parse_page(response, label)
            yield FetchedPage(label, start, end, number, page)
            token = page.next_page_token
            if not token:
                return
            if token in seen_tokens:
                raise AmazonMalformedPage(
                    f"{label}: Amazon sent a nextPageToken it had already sent; stopped to "
                    "avoid reading the same pages forever. Try the import again later.",
                    operation="getTransactions",
                    request_id=request_id_of(response),
                )
            seen_tokens.add(token)
            params = {"nextPageToken": token}
            number += 1

    def _parse_page(self, response: requests.Response, label: str) -> TransactionsPage:
        request_id = request_id_of(response)
        try:
            body = response.json()
        except ValueError:
            raise AmazonMalformedPage(
                f"{label}: Amazon's answer is not JSON, so the page could not be read.",
                operation="getTransactions",
                status=response.status_code,
                request_id=request_id,
            ) from None
        try:
            return parse_transactions_page(body, label)
        except MalformedPage as exc:
            log.warning("Malformed getTransactions page: %s [request id %s]", exc, request_id)
            raise AmazonMalformedPage(
                str(exc), operation="getTransactions", request_id=request_id
            ) from exc

    # --- Invoices -------------------------------------------------------------------------

    def invoice_details(self, line_item_keys: Iterable[LineItemKey]) -> list[LineItemInvoices]:
        """Invoice numbers, dates and types of order lines (25 per call)."""
        results: list[LineItemInvoices] = []
        keys = _unique(line_item_keys)
        for number, batch in enumerate(_batches(keys), start=1):
            body = {"orderLineItems": [key.to_json() for key in batch]}
            response = self._call(
                "getInvoiceDetailsByOrderLineItems", "POST", INVOICES_PATH, json=body
            )
            where = f"invoice details batch {number}"
            results.extend(
                self._parse(
                    response, "getInvoiceDetailsByOrderLineItems", where, parse_invoice_details
                )
            )
        return results

    def invoice_payment_details(self, invoice_ids: Iterable[str]) -> list[InvoicePaymentResult]:
        """Payment status and due date of invoices (25 per call), in the order given."""
        ids = _unique(invoice_ids)
        local: dict[str, InvoicePaymentResult] = {}
        valid = []
        for invoice_id in ids:
            if isinstance(invoice_id, str) and 1 <= len(invoice_id) <= MAX_INVOICE_ID_LENGTH:
                valid.append(invoice_id)
            else:
                local[invoice_id] = InvoicePaymentResult(
                    str(invoice_id),
                    "ERROR",
                    error=PaymentError(
                        "INVALID_INVOICE_ID",
                        "Amazon accepts invoice ids of 1 to 255 characters; this one was not sent.",
                    ),
                )
        fetched: dict[str, InvoicePaymentResult] = {}
        for number, batch in enumerate(_batches(valid), start=1):
            response = self._call(
                "getBatchInvoicePaymentDetails",
                "POST",
                PAYMENT_DETAILS_PATH,
                json={"invoiceIds": batch},
            )
            where = f"payment details batch {number}"
            for result in self._parse(
                response, "getBatchInvoicePaymentDetails", where, parse_payment_details
            ):
                fetched[result.invoice_id] = result
            for invoice_id in batch:
                if invoice_id not in fetched:
                    fetched[invoice_id] = InvoicePaymentResult(
                        invoice_id,
                        "ERROR",
                        error=PaymentError(
                            "MISSING_RESULT", "Amazon's answer did not mention this invoice."
                        ),
                    )
        return [local.get(i) or fetched[i] for i in ids]

    # --- Document API (PDF invoices) --------------------------------------------------------

    def fetch_invoice_pdf(
        self,
        *,
        invoice_id: str | None = None,
        document_type: str = "Invoice",
        line_item: LineItemKey | None = None,
    ) -> bytes:
        """The PDF of an invoice (``invoice_id``, ``document_type`` Invoice or Credits) or of
        an order line (EU/JP: ``line_item``): create the report, wait, download."""
        report_id = self.create_invoice_report(
            invoice_id=invoice_id, document_type=document_type, line_item=line_item
        )
        report = self.wait_for_report(report_id)
        return self.download_report_document(str(report["reportDocumentId"]))

    def create_invoice_report(
        self,
        *,
        invoice_id: str | None = None,
        document_type: str = "Invoice",
        line_item: LineItemKey | None = None,
    ) -> str:
        """Ask for a GET_AB_INVOICE_PDF report; its ``reportId``."""
        if (invoice_id is None) == (line_item is None):
            raise ValueError("give either invoice_id or line_item")
        if document_type not in ("Invoice", "Credits"):
            raise ValueError("document_type must be 'Invoice' or 'Credits'")
        options: dict[str, str] = (
            {"invoiceId": str(invoice_id), "documentType": document_type}
            if invoice_id is not None
            else line_item.to_json()  # type: ignore[union-attr]
        )
        body = {
            "reportType": INVOICE_REPORT_TYPE,
            "marketplaceIds": [self.store.marketplace_id],
            "reportOptions": options,
        }
        response = self._call("createReport", "POST", REPORTS_PATH, json=body)
        data = self._json(response, "createReport", "createReport answer")
        report_id = data.get("reportId")
        if not isinstance(report_id, str) or not report_id:
            raise AmazonMalformedResponse(
                "Amazon accepted the PDF request but gave no report id.",
                operation="createReport",
                request_id=request_id_of(response),
            )
        return report_id

    def wait_for_report(self, report_id: str) -> dict[str, Any]:
        """Poll getReport until DONE (the report); FATAL/CANCELLED raise AmazonReportFailed."""
        deadline = self.clock() + self.polling.timeout
        delay = self.polling.first_delay
        while True:
            response = self._call("getReport", "GET", f"{REPORTS_PATH}/{report_id}")
            report = self._json(response, "getReport", f"report {report_id}")
            status = report.get("processingStatus")
            if status == "DONE":
                if not report.get("reportDocumentId"):
                    raise AmazonMalformedResponse(
                        f"Amazon says report {report_id} is done but names no document.",
                        operation="getReport",
                        request_id=request_id_of(response),
                    )
                return report
            if status in ("FATAL", "CANCELLED"):
                raise _report_failed(report_id, str(status), request_id_of(response))
            if status not in ("IN_QUEUE", "IN_PROGRESS"):
                raise AmazonMalformedResponse(
                    f"Amazon gave report {report_id} an unknown status {status!r:.40}.",
                    operation="getReport",
                    request_id=request_id_of(response),
                )
            if self.clock() + delay > deadline:
                raise AmazonReportPending(
                    f"Amazon is still preparing the PDF (report {report_id}, {status}); "
                    "we will ask again later.",
                    report_id=report_id,
                    retry_after=self.polling.retry_after,
                    operation="getReport",
                )
            self.sleep(delay)
            delay = min(self.polling.max_delay, delay * 2)

    def download_report_document(self, document_id: str) -> bytes:
        """Resolve a report document to its presigned URL and download the PDF bytes."""
        response = self._call("getReportDocument", "GET", f"{DOCUMENTS_PATH}/{document_id}")
        document = self._json(response, "getReportDocument", f"document {document_id}")
        url = document.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise AmazonMalformedResponse(
                f"Amazon gave no download link for document {document_id}.",
                operation="getReportDocument",
                request_id=request_id_of(response),
            )
        compression = document.get("compressionAlgorithm")
        raw = self._download(url)
        return _pdf_bytes(raw, compression, document_id)

    def _download(self, url: str) -> bytes:
        """GET a presigned URL without our access token (it must not leave Amazon's API)."""
        retries = 0
        while True:
            try:
                response = self.http.get(
                    url, headers={"user-agent": USER_AGENT}, timeout=self.timeout, stream=True
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                retries += 1
                if retries >= self.retry.max_attempts:
                    raise AmazonUnavailable(
                        f"Could not download the PDF from Amazon ({type(exc).__name__}).",
                        retry_after=self.retry.max_delay,
                        operation="download",
                    ) from exc
                self.sleep(self.retry.delay(retries, self.rng))
                continue
            with response:
                if response.status_code == 200:
                    return _read_capped(response)
                status = response.status_code
            if status in RETRYABLE_STATUSES and retries + 1 < self.retry.max_attempts:
                retries += 1
                self.sleep(self.retry.delay(retries, self.rng))
                continue
            raise AmazonUnavailable(
                f"Amazon's PDF download link answered HTTP {status} (links last five "
                "minutes); the PDF will be requested again later.",
                retry_after=self.polling.retry_after,
                operation="download",
                status=status,
            )

    # --- One call, with limits, retries and error mapping -----------------------------------

    def _throttle(self, operation: str) -> None:
        if self.limiter is None:
            return
        limit = self._limits[operation]
        try:
            self.limiter.take(
                f"amazon:{self.connection_id}:{operation}",
                limit.rate,
                limit.burst,
                max_wait=self.limiter_max_wait,
            )
        except RateLimitWait as wait:
            raise AmazonRateLimited(
                f"Pausing Amazon {operation} calls for {self.store.display_name} to stay within "
                f"Amazon's rate limit; continuing in {wait.retry_after:.0f} s.",
                retry_after=wait.retry_after,
                operation=operation,
            ) from wait

    def _observe_limit(self, operation: str, response: requests.Response) -> None:
        header = response.headers.get("x-amzn-RateLimit-Limit")
        if not header:
            return
        try:
            rate = float(header)
        except ValueError:
            return
        current = self._limits[operation]
        if 0 < rate < current.rate:
            self._limits[operation] = OperationLimit(rate, current.burst)

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        json: Any = None,
    ) -> requests.Response:
        """Send one operation; the successful response, or one of our errors."""
        url = self.base_url + path
        retries = 0
        refreshed = False
        while True:
            self._throttle(operation)
            headers = {
                "x-amz-access-token": self.tokens.access_token(),
                "user-agent": USER_AGENT,
                "accept": "application/json",
            }
            if json is not None:
                headers["content-type"] = "application/json"
            try:
                response = self.http.request(
                    method, url, params=params, json=json, headers=headers, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                retries += 1
                log.warning("Amazon %s: %s (attempt %s)", operation, type(exc).__name__, retries)
                if retries >= self.retry.max_attempts:
                    raise AmazonUnavailable(
                        f"Amazon did not answer {operation} for {self.store.display_name} "
                        f"after {retries} attempts ({type(exc).__name__}). We will try again "
                        "later.",
                        retry_after=self.retry.max_delay,
                        operation=operation,
                    ) from exc
                self.sleep(self.retry.delay(retries, self.rng))
                continue
            self._observe_limit(operation, response)
            if response.status_code < 400:
                return response
            status = response.status_code
            error = parse_error_body(response)
            request_id = request_id_of(response)
            retry_after_header = _retry_after(response)
            response.close()
            log.warning(
                "Amazon %s for connection %s failed: HTTP %s %s [request id %s]",
                operation,
                self.connection_id,
                status,
                error.summary(),
                request_id,
            )
            context: dict[str, Any] = {
                "operation": operation,
                "status": status,
                "code": error.code,
                "amazon_message": error.message,
                "details": error.details,
                "request_id": request_id,
            }
            if status in (401, 403) and not refreshed and (status == 401 or _about_token(error)):
                refreshed = True
                self.tokens.refresh()
                continue
            if status in RETRYABLE_STATUSES:
                retries += 1
                wait = (
                    retry_after_header
                    if retry_after_header is not None
                    else self.retry.delay(retries, self.rng)
                )
                if retries < self.retry.max_attempts and wait <= self.retry.max_delay:
                    self.sleep(wait)
                    continue
                raise self._gave_up(status, error, wait, context)
            raise self._refused(status, error, context)

    def _gave_up(
        self, status: int, error: ErrorBody, wait: float, context: dict[str, Any]
    ) -> AmazonError:
        what = f"{context['operation']} for {self.store.display_name}"
        if status == 429:
            return AmazonRateLimited(
                f"Amazon is limiting how fast we may call {what}; we will continue in "
                f"{wait:.0f} s.",
                retry_after=wait,
                **context,
            )
        return AmazonUnavailable(
            f"Amazon kept failing {what} (HTTP {status}"
            + (f", {error.summary()}" if error.summary() else "")
            + f"); we will try again in {wait:.0f} s.",
            retry_after=wait,
            **context,
        )

    def _refused(self, status: int, error: ErrorBody, context: dict[str, Any]) -> AmazonError:
        what = f"{context['operation']} for {self.store.display_name}"
        said = error.summary() or f"HTTP {status}"
        if status == 401:
            reason = self.tokens.mark_needs_reconnect(
                f"Amazon rejected its access even after a fresh token ({said})."
            )
            return AmazonNeedsReconnect(reason, **context)
        if status == 403:
            return AmazonForbidden(
                f"Amazon denied access to {what}: {said}. Connect the store again as an "
                "Amazon Business administrator of every legal entity; if that does not help, "
                "the app may lack the Amazon API role for this operation (contact support).",
                **context,
            )
        if status == 404:
            return AmazonNotFound(f"Amazon found nothing for {what}: {said}.", **context)
        if status in (400, 413, 415, 422):
            return AmazonBadRequest(
                f"Amazon rejected the {what} request: {said}. Retrying will not help; "
                "contact support if it keeps happening.",
                **context,
            )
        return AmazonError(f"Amazon answered {what} with HTTP {status}: {said}.", **context)

    # --- Reading answers ----------------------------------------------------------------------

    def _json(self, response: requests.Response, operation: str, where: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise AmazonMalformedResponse(
                f"Amazon's answer for {where} is not the documented JSON object.",
                operation=operation,
                status=response.status_code,
                request_id=request_id_of(response),
            )
        return body

    def _parse(
        self,
        response: requests.Response,
        operation: str,
        where: str,
        parser: Callable[[Any, str], list[Any]],
    ) -> list[Any]:
        body = self._json(response, operation, where)
        try:
            return parser(body, where)
        except ValueError as exc:
            raise AmazonMalformedResponse(
                f"Amazon's answer could not be read: {exc}",
                operation=operation,
                request_id=request_id_of(response),
            ) from exc


def _about_token(error: ErrorBody) -> bool:
    text = f"{error.code} {error.message} {error.details}".lower()
    return any(word in text for word in TOKEN_WORDS)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _report_failed(report_id: str, status: str, request_id: str | None) -> AmazonReportFailed:
    if status == "CANCELLED":
        reason = (
            "Amazon cancelled it: it has no PDF for this document (in the US, Canada and "
            "Mexico only Pay by Invoice orders have PDF invoices; digital orders have none), "
            "or the request was cancelled."
        )
    else:
        reason = "Amazon could not produce the PDF (the report ended FATAL)."
    return AmazonReportFailed(
        f"The PDF invoice is not available (report {report_id}): {reason}",
        processing_status=status,
        reason=reason,
        operation="getReport",
        request_id=request_id,
    )


def _read_capped(response: requests.Response) -> bytes:
    chunks = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > MAX_PDF_BYTES:
            raise AmazonMalformedResponse(
                "Amazon's PDF download is larger than 50 MB; it was not attached.",
                operation="download",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _pdf_bytes(raw: bytes, compression: Any, document_id: str) -> bytes:
    if compression == "GZIP":
        try:
            inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
            data = inflater.decompress(raw, MAX_PDF_BYTES + 1)
        except zlib.error as exc:
            raise AmazonMalformedResponse(
                f"Amazon's document {document_id} says GZIP but could not be unzipped.",
                operation="download",
            ) from exc
        if len(data) > MAX_PDF_BYTES:
            raise AmazonMalformedResponse(
                "Amazon's PDF is larger than 50 MB unzipped; it was not attached.",
                operation="download",
            )
    elif compression in (None, ""):
        data = raw
    else:
        raise AmazonMalformedResponse(
            f"Amazon's document {document_id} uses an unknown compression {compression!r:.30}.",
            operation="getReportDocument",
        )
    if not data.startswith(b"%PDF"):
        hint = " (it looks gzipped)" if data[:2] == b"\x1f\x8b" else ""
        raise AmazonMalformedResponse(
            f"Amazon's document {document_id} is not a PDF{hint}.", operation="download"
        )
    return data


__all__ = [
    "OPERATION_LIMITS",
    "AmazonBusinessClient",
    "FetchedPage",
    "LineItemKey",
    "OperationLimit",
    "ReportPolling",
    "RetryPolicy",
    "TokenSource",
    "amazon_time",
    "split_window",
]
