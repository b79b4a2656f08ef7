"""Organisations after a Xero consent, and their end: disconnect, account deletion, and noticing
that an organisation was disconnected in Xero.

Only ``ORGANISATION`` tenants are accepted (practices and Practice Manager tenants cannot hold
Amazon Business purchases). An organisation's ledger is never deleted: a reconnect finds it and
re-posts nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from plugin.auth.token_store import read_xero_token
from plugin.auth.token_store import save_xero_token
from plugin.models import AuditEvent
from plugin.models import Membership
from plugin.models import OnboardingStep
from plugin.models import Organisation
from plugin.models import OrgStatus
from plugin.models import User
from plugin.models import utcnow
from plugin.security import TokenCipher
from plugin.xero.auth import SignIn
from plugin.xero.auth import XeroIdentity
from plugin.xero.errors import XeroError
from plugin.xero.models import XeroOrganisation

log = logging.getLogger(__name__)


@dataclass
class ConsentOutcome:
    """Who signed in and which organisations this consent connected (or could not)."""

    user: User
    organisations: list[Organisation] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # names of non-organisation tenants
    reconnected: list[Organisation] = field(default_factory=list)  # were not active before
    dropped: list[str] = field(default_factory=list)  # names of orgs Xero no longer grants


def upsert_user(session: Session, sign_in: SignIn) -> User:
    """Find the user by Xero user id (stable, unlike email) or create them."""
    user = session.exec(select(User).where(User.xero_user_id == sign_in.xero_user_id)).first()
    if user is None:
        user = User(xero_user_id=sign_in.xero_user_id)
    user.email = sign_in.email or user.email
    user.name = sign_in.name or user.name
    user.last_login_at = utcnow()
    session.add(user)
    session.flush()
    return user


def record_consent(
    session: Session, sign_in: SignIn, identity: XeroIdentity, cipher: TokenCipher
) -> ConsentOutcome:
    """Create or update the user, the organisations authorised in this consent and memberships."""
    user = upsert_user(session, sign_in)
    outcome = ConsentOutcome(user=user)
    access_token = str(sign_in.token["access_token"])
    group = sign_in.authentication_event_id or None
    for connection in identity.connections(access_token, sign_in.authentication_event_id or None):
        if connection.get("tenantType") != "ORGANISATION":
            outcome.refused.append(str(connection.get("tenantName") or connection.get("tenantId")))
            continue
        org, was_active = _upsert_organisation(session, connection, sign_in.token, group, cipher)
        _ensure_membership(session, user, org)
        outcome.organisations.append(org)
        if not was_active and org.onboarding_step == OnboardingStep.DONE:
            outcome.reconnected.append(org)
        session.add(
            AuditEvent(
                organisation_id=org.id,
                actor=f"user:{user.id}",
                action="xero_connected",
                detail={"tenant": org.name},
            )
        )
    outcome.dropped = drop_memberships_not_granted(session, user, identity, access_token)
    session.commit()
    return outcome


def drop_memberships_not_granted(
    session: Session, user: User, identity: XeroIdentity, access_token: str
) -> list[str]:
    """Remove the user's memberships of organisations their Xero connections no longer include
    (access removed in Xero, or the app disconnected there); the names of those organisations.

    The consent's own connections are filtered by its auth event, so this asks for all of the
    user's connections once more. If Xero does not answer, nothing is removed (the next sign-in
    looks again). The daily membership check (``plugin.work.membership_checks``) calls it too,
    with the stored token of the user who granted it."""
    try:
        granted = {str(c.get("tenantId")) for c in identity.connections(access_token)}
    except XeroError as exc:
        log.warning("Could not list all Xero connections of user %s: %s", user.id, exc.message)
        return []
    rows = session.exec(
        select(Membership, Organisation)
        .join(Organisation, col(Organisation.id) == col(Membership.organisation_id))
        .where(Membership.user_id == user.id)
    ).all()
    dropped = []
    now = utcnow()
    for membership, org in rows:
        if org.xero_tenant_id in granted:
            membership.verified_at = now  # an update: the user's sessions go on
            session.add(membership)
            continue
        session.delete(membership)
        session.add(
            AuditEvent(
                organisation_id=org.id,
                actor=f"user:{user.id}",
                action="membership_dropped",
                detail={
                    "reason": "not in the user's Xero connections",
                    "organisation": org.name or org.xero_tenant_id,
                    "on": utcnow().date().isoformat(),
                },
            )
        )
        dropped.append(org.name or org.xero_tenant_id)
    return dropped


def _upsert_organisation(
    session: Session,
    connection: dict[str, Any],
    token: dict[str, Any],
    group: str | None,
    cipher: TokenCipher,
) -> tuple[Organisation, bool]:
    """The organisation, active with the new tokens, and whether it was active before."""
    tenant_id = str(connection["tenantId"])
    org = session.exec(select(Organisation).where(Organisation.xero_tenant_id == tenant_id)).first()
    if org is None:
        org = Organisation(xero_tenant_id=tenant_id)
    org.xero_connection_id = str(connection.get("id") or "")
    org.name = str(connection.get("tenantName") or org.name)
    org.xero_token_group = group
    save_xero_token(cipher, org, token)
    was_active = org.id is None or org.status == OrgStatus.ACTIVE
    if not was_active:
        log.info("Organisation %s reconnected to Xero", tenant_id)
    org.status = OrgStatus.ACTIVE
    org.status_reason = None
    session.add(org)
    session.flush()
    return org, was_active


def _ensure_membership(session: Session, user: User, org: Organisation) -> None:
    existing = session.exec(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == org.id
        )
    ).first()
    if existing is None:
        session.add(Membership(user_id=user.id, organisation_id=org.id))  # type: ignore[arg-type]


def apply_organisation_details(org: Organisation, details: XeroOrganisation) -> None:
    """Copy what we need from Xero's Organisation (country, currency, time zone, lock dates, and
    the short code that Xero deep links open the right organisation with)."""
    org.name = details.name or org.name
    org.country = details.country_code or org.country
    org.base_currency = details.base_currency or org.base_currency
    org.timezone = details.timezone or org.timezone
    org.period_lock_date = details.period_lock_date
    org.end_of_year_lock_date = details.end_of_year_lock_date
    if details.short_code:
        org.settings = {**(org.settings or {}), "xero_short_code": details.short_code}
    org.updated_at = utcnow()


def disconnect(
    session: Session,
    org: Organisation,
    identity: XeroIdentity,
    access_token: str | None,
    actor: str,
) -> None:
    """Remove the Xero connection, stop syncing, keep the ledger (a reconnect re-posts nothing)."""
    if access_token and org.xero_connection_id:
        try:
            identity.delete_connection(access_token, org.xero_connection_id)
        except XeroError as exc:  # already gone in Xero, or tokens dead: still disconnect here
            log.info("Disconnecting %s: Xero said %s", org.xero_tenant_id, exc.message)
    org.status = OrgStatus.DISCONNECTED
    org.status_reason = "Disconnected from Xero in Manage Integrations."
    org.sync_enabled = False
    org.xero_token_encrypted = None
    org.xero_token_expires_at = None
    org.updated_at = utcnow()
    session.add(org)
    session.add(AuditEvent(organisation_id=org.id, actor=actor, action="xero_disconnected"))
    session.commit()


REVOKED_IN_XERO = (
    "This organisation was disconnected from the app in Xero. Reconnect to Xero to resume."
)
"""The status reason of an organisation whose connection was revoked on Xero's side (403)."""


def confirm_revoked(
    session: Session, org: Organisation, identity: XeroIdentity, access_token: str
) -> bool:
    """After a 403: is the tenant gone from our connections? If so mark it disconnected."""
    try:
        tenants = {c.get("tenantId") for c in identity.connections(access_token)}
    except XeroError:
        tenants = set()
    if org.xero_tenant_id in tenants:
        return False
    # Sync stays as the user left it: the status alone pauses every job, and reconnecting
    # resumes where it stopped (a disconnection made here, in the app, turns sync off).
    org.status = OrgStatus.DISCONNECTED
    org.status_reason = REVOKED_IN_XERO
    org.updated_at = utcnow()
    session.add(org)
    session.add(AuditEvent(organisation_id=org.id, actor="job", action="xero_revoked_in_xero"))
    session.commit()
    return True


def delete_account(
    session: Session, user: User, identity: XeroIdentity, cipher: TokenCipher
) -> int:
    """Delete the user: revoke their Xero refresh tokens, drop their memberships.

    Organisations other members still use keep running; the ledger is kept either way.
    Returns how many token sets were revoked.
    """
    memberships = list(session.exec(select(Membership).where(Membership.user_id == user.id)))
    revoked_groups: set[str] = set()
    for membership in memberships:
        org = session.get(Organisation, membership.organisation_id)
        others = session.exec(
            select(Membership).where(
                Membership.organisation_id == membership.organisation_id,
                Membership.user_id != user.id,
            )
        ).first()
        if org is not None and others is None:
            token = read_xero_token(cipher, org) if org.xero_token_encrypted else None
            group = org.xero_token_group or f"org-{org.id}"
            if token and token.get("refresh_token") and group not in revoked_groups:
                try:
                    identity.revoke(str(token["refresh_token"]))
                    revoked_groups.add(group)
                except XeroError as exc:
                    log.info("Revoking tokens of %s failed: %s", org.xero_tenant_id, exc.message)
            org.status = OrgStatus.DISCONNECTED
            org.status_reason = "The last member deleted their account."
            org.sync_enabled = False
            org.xero_token_encrypted = None
            session.add(org)
        session.delete(membership)
    session.delete(user)
    session.commit()
    return len(revoked_groups)
