"""Composing the digest email and delivering it.

Delivery goes through SMTP when ``SMTP_URL`` is set (``smtp://user:pass@host:587`` upgrades with
STARTTLS, ``smtps://`` is TLS from the start, other ports of ``smtp://`` are plain, for a local
relay), else into the outbox folder (``plugin.notify.outbox``).

Header values (the subject holds the organisation's name, which comes from Xero) have their
control characters replaced, so no name can break or inject a header.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import unicodedata
from email.message import EmailMessage
from email.utils import format_datetime
from email.utils import make_msgid
from typing import TYPE_CHECKING
from urllib.parse import unquote
from urllib.parse import urlsplit

from flask import Flask
from flask import render_template

from plugin.models import utcnow
from plugin.notify import outbox

if TYPE_CHECKING:
    from plugin.notify.digest import Digest

SMTP_TIMEOUT = 20
STARTTLS_PORT = 587
_LINE_BREAKS = {"Cc", "Zl", "Zp"}  # control characters and the Unicode line/paragraph breaks


def header_safe(value: str) -> str:
    """``value`` fit for a mail header: control characters become spaces, runs of spaces one."""
    cleaned = "".join(" " if unicodedata.category(char) in _LINE_BREAKS else char for char in value)
    return re.sub(r" {2,}", " ", cleaned).strip()


def compose(digest: Digest, to: str, mail_from: str) -> EmailMessage:
    """The email for one member (plain text, with an HTML alternative)."""
    message = EmailMessage()
    message["Subject"] = header_safe(digest.subject)
    message["From"] = header_safe(mail_from)
    message["To"] = header_safe(to)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="amazon-business-for-xero")
    message[outbox.ORG_HEADER] = str(digest.org_id)
    message.set_content(render_template("mail/digest.txt", digest=digest))
    message.add_alternative(render_template("mail/digest.html", digest=digest), subtype="html")
    return message


def send_message(app: Flask, message: EmailMessage) -> None:
    """Deliver through SMTP_URL, or write the message to the outbox folder."""
    url = str(app.config.get("SMTP_URL") or "")
    if url:
        _send_smtp(url, message)
        return
    outbox.write(app, message)


def _send_smtp(url: str, message: EmailMessage) -> None:
    with _open_smtp(url) as server:
        server.send_message(message)


def smtp_answers(url: str) -> str:
    """Connect to ``SMTP_URL`` as sending does (TLS, log-in) and say EHLO: the server's name.
    Raises ``ValueError``, ``OSError`` or ``smtplib.SMTPException``."""
    with _open_smtp(url) as server:
        code, greeting = server.ehlo()
        if code != 250:
            raise smtplib.SMTPException(f"EHLO answered {code}")
        return greeting.decode(errors="replace").split("\n")[0]


def _open_smtp(url: str) -> smtplib.SMTP:
    """A connection to ``SMTP_URL``, upgraded to TLS on the submission port and logged in."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("SMTP_URL must start with smtp:// or smtps://")
    host = parts.hostname or "localhost"
    port = parts.port or (465 if parts.scheme == "smtps" else 587)
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if parts.scheme == "smtps":
        server = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    try:
        if parts.scheme == "smtp" and port == STARTTLS_PORT:
            server.starttls(context=context)
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
    except BaseException:
        server.close()
        raise
    return server
