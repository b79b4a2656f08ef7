"""The Amazon Business half of the sandbox: consent, LWA, Reconciliation and Document APIs.

URL map (``{r}`` is ``na``, ``eu`` or ``jp``):
- ``GET|POST /amazon/<store>/b2b/abws/oauth`` and ``POST …/oauth/decision``: consent per store.
- ``POST /auth/o2/token``: LWA token endpoint.
- ``/amazon-api/{r}/reconciliation/2021-01-08/...`` and ``/amazon-api/{r}/reports/2021-09-30/...``.
- ``GET /amazon-files/<token>``: presigned-style document downloads.
- ``/_sandbox/amazon/...``: control endpoints (``control.py``; re-fed transactions: ``changes``).
"""

from __future__ import annotations

from flask import Flask

from sandbox.amazon import api
from sandbox.amazon import changes  # noqa: F401  (adds its route to control.bp)
from sandbox.amazon import consent
from sandbox.amazon import control
from sandbox.amazon import documents
from sandbox.amazon import reconciliation
from sandbox.amazon.world import DEFAULT_PAGE_SIZE
from sandbox.amazon.world import build_world
from sandbox.core import Sandbox


def rebuild(sandbox: Sandbox) -> None:
    """Reset hook: regenerate the Amazon world from the seed, ending at the sandbox's now."""
    config = sandbox.config
    sandbox.worlds["amazon"] = build_world(
        seed=int(config["SANDBOX_SEED"]),
        end=sandbox.clock.now(),
        days=int(config["SANDBOX_AMAZON_HISTORY_DAYS"]),
        volume=int(config["SANDBOX_AMAZON_TRANSACTIONS"]),
        page_size=int(config.get("SANDBOX_AMAZON_PAGE_SIZE", DEFAULT_PAGE_SIZE)),
    )


def init_app(app: Flask) -> None:
    """Register this half's blueprints and its reset hook."""
    app.register_blueprint(consent.bp)
    app.register_blueprint(reconciliation.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(documents.files_bp)
    app.register_blueprint(api.fallback_bp)
    app.register_blueprint(control.bp)
    app.extensions["sandbox"].on_reset(rebuild)
