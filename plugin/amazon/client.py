"""The Amazon Business API client: one ``AmazonBusinessClient`` per store connection.

It is the one object jobs, views and the CLI use to talk to the Reconciliation and Document
APIs (spec §3, §4, §6). How a call is sent (headers, rate limits, error mapping) is in
``plugin.amazon.transport``, the retry policy in ``plugin.amazon.retry``, transaction paging
and windows in ``plugin.amazon.paging``, PDF reports in ``plugin.amazon.reports``.

Invoice lookups go in batches of 25 (the documented maximum), duplicates removed, results in
input order. An invoice id Amazon would reject (empty, > 255 characters) gets a local ``ERROR``
result instead of failing its whole batch.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

import requests

from plugin.amazon.http import DEFAULT_TIMEOUT
from plugin.amazon.invoices import InvoicePaymentResult
from plugin.amazon.invoices import LineItemInvoices
from plugin.amazon.invoices import LineItemKey
from plugin.amazon.invoices import PaymentError
from plugin.amazon.invoices import parse_invoice_details
from plugin.amazon.invoices import parse_payment_details
from plugin.amazon.paging import DEFAULT_FEED_WINDOW
from plugin.amazon.paging import FetchedPage
from plugin.amazon.paging import transaction_pages
from plugin.amazon.regions import Store
from plugin.amazon.regions import api_base_url
from plugin.amazon.regions import store_for
from plugin.amazon.reports import ReportPolling
from plugin.amazon.reports import create_invoice_report
from plugin.amazon.reports import create_order_summary_report
from plugin.amazon.reports import download_report_document
from plugin.amazon.reports import wait_for_report
from plugin.amazon.retry import RetryPolicy
from plugin.amazon.transport import AmazonTransport
from plugin.amazon.transport import TokenSource
from plugin.infra.ratelimit import TokenBucket

if TYPE_CHECKING:
    import redis

    from plugin.amazon.settings import AmazonSettings
    from plugin.amazon.settings import SessionFactory
    from plugin.models import AmazonConnection
    from plugin.security import TokenCipher

INVOICES_PATH = "/reconciliation/2021-01-08/invoices"
PAYMENT_DETAILS_PATH = "/reconciliation/2021-01-08/invoices/batch/paymentDetails"
BATCH_SIZE = 25
MAX_INVOICE_ID_LENGTH = 255


def _unique(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _batches(values: list[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    for index in range(0, len(values), size):
        yield values[index : index + size]


class AmazonBusinessClient(AmazonTransport):
    """The Reconciliation and Document APIs for one Amazon Business store connection."""

    def __init__(
        self,
        *,
        base_url: str,
        tokens: TokenSource,
        connection_id: int,
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
        super().__init__(
            base_url=base_url,
            tokens=tokens,
            connection_id=connection_id,
            store=store,
            limiter=limiter,
            http=http,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
            rng=rng,
            limiter_max_wait=limiter_max_wait,
        )
        self.polling = polling or ReportPolling()
        self.clock = clock
        self.max_feed_window = max_feed_window

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
        from plugin.amazon.tokens import token_provider_for

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

    def __enter__(self) -> AmazonBusinessClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- getTransactions ------------------------------------------------------------------

    def iter_transaction_pages(self, start: datetime, end: datetime) -> Iterator[FetchedPage]:
        """Every page of transactions whose feed date is in ``start``..``end``, in order."""
        return transaction_pages(self, start, end, self.max_feed_window)

    # --- Invoices -------------------------------------------------------------------------

    def invoice_details(self, line_item_keys: Iterable[LineItemKey]) -> list[LineItemInvoices]:
        """Invoice numbers, dates and types of order lines (25 per call)."""
        results: list[LineItemInvoices] = []
        keys = _unique(line_item_keys)
        for number, batch in enumerate(_batches(keys), start=1):
            body = {"orderLineItems": [key.to_json() for key in batch]}
            response = self.call(
                "getInvoiceDetailsByOrderLineItems", "POST", INVOICES_PATH, json=body
            )
            where = f"invoice details batch {number}"
            results.extend(
                self.read_with(
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
            response = self.call(
                "getBatchInvoicePaymentDetails",
                "POST",
                PAYMENT_DETAILS_PATH,
                json={"invoiceIds": batch},
            )
            where = f"payment details batch {number}"
            for result in self.read_with(
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
        return create_invoice_report(
            self, invoice_id=invoice_id, document_type=document_type, line_item=line_item
        )

    def fetch_order_summary_pdf(self, order_id: str) -> bytes:
        """A North American order's summary PDF (not a tax invoice): create, wait, download."""
        report = self.wait_for_report(create_order_summary_report(self, order_id))
        return self.download_report_document(str(report["reportDocumentId"]))

    def wait_for_report(self, report_id: str) -> dict[str, Any]:
        """Poll getReport until DONE (the report); FATAL/CANCELLED raise AmazonReportFailed."""
        return wait_for_report(self, report_id, self.polling, self.clock)

    def download_report_document(self, document_id: str) -> bytes:
        """Resolve a report document to its presigned URL and download the PDF bytes."""
        return download_report_document(self, document_id, self.polling)
