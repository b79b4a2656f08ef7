"""The Xero half of the sandbox: identity (authorize, tokens, connections), the Accounting API,
control endpoints for tests, and a viewer page. State is rebuilt from the seed on reset."""

from __future__ import annotations

from flask import Flask

from sandbox.core import Sandbox


def reset_world(sandbox: Sandbox) -> None:
    """Rebuild the Xero world from ``SANDBOX_SEED``."""
    from sandbox.xero.build import build_world

    sandbox.worlds["xero"] = build_world(int(sandbox.config["SANDBOX_SEED"]))


def init_app(app: Flask) -> None:
    """Register this half's blueprints and its reset hook."""
    from sandbox.xero import attachments
    from sandbox.xero import authorize
    from sandbox.xero import contacts
    from sandbox.xero import control
    from sandbox.xero import documents
    from sandbox.xero import identity
    from sandbox.xero import reconcile_control  # noqa: F401  (adds its route to control.bp)
    from sandbox.xero import reference
    from sandbox.xero import status_changes
    from sandbox.xero import tracking
    from sandbox.xero import viewer
    from sandbox.xero.keys import signing_key

    for module in (
        authorize,
        identity,
        reference,
        contacts,
        documents,
        status_changes,
        tracking,
        attachments,
        control,
        viewer,
    ):
        app.register_blueprint(module.bp)
    signing_key()
    app.extensions["sandbox"].on_reset(reset_world)
