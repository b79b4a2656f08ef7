"""Secrets at rest, in the browser and in logs: token encryption, CSRF protection, session
lifetime, security headers, authorisation codes kept out of the request logs.

OAuth tokens are stored only as Fernet ciphertext (``TOKEN_ENCRYPTION_KEY``). In development a
key is generated once into ``instance/token-encryption.key`` and reused; production refuses to
start without one, or with a ``SECRET_KEY`` shorter than 32 bytes. CSRF comes from Flask-WTF
(forms send ``csrf_token``; HTMX sends the ``X-CSRFToken`` header that base.html sets on
``<body>``). Signed-in pages are never cached; HSTS is sent when ``PUBLIC_URL`` is https. The
request lines the dev server logs (and gunicorn's, see ``gunicorn.conf.py``) have the ``code``
and ``state`` of OAuth callbacks replaced by ``[redacted]``.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from flask import Flask
from flask import Response
from flask import request
from flask import session
from flask_wtf.csrf import CSRFProtect

from plugin.config import is_production

log = logging.getLogger(__name__)

csrf = CSRFProtect()

KEY_FILE_NAME = "token-encryption.key"
MIN_SECRET_KEY_BYTES = 32
SESSION_LIFETIME = timedelta(hours=12)  # a session cookie older than this signs in no one
HSTS = "max-age=31536000"  # a year (subdomains are left to whoever runs the domain)
# An OAuth callback's authorisation code (and its state) in a URL, a query string or a referer.
_SECRET_QUERY_VALUE = re.compile(r"(^|[?&;])(code|state)=[^&;#\s\"]*", re.IGNORECASE)


class ConfigurationError(RuntimeError):
    """The app cannot start with this configuration; the message says what to set."""


class TokenDecryptionError(RuntimeError):
    """A stored token could not be decrypted (wrong or rotated TOKEN_ENCRYPTION_KEY)."""


class TokenCipher:
    """Encrypts and decrypts OAuth token sets for storage."""

    def __init__(self, key: str | bytes) -> None:
        self._fernet = Fernet(key)

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext (URL-safe text) for a secret string."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The secret string back; raises TokenDecryptionError when the key does not fit."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as exc:
            raise TokenDecryptionError(
                "A stored token could not be decrypted: TOKEN_ENCRYPTION_KEY differs from the "
                "key it was encrypted with."
            ) from exc

    def encrypt_json(self, value: dict[str, Any]) -> str:
        """Ciphertext for a JSON-serialisable token set."""
        return self.encrypt(json.dumps(value, sort_keys=True))

    def decrypt_json(self, ciphertext: str) -> dict[str, Any]:
        """The token set back as a dict."""
        result = json.loads(self.decrypt(ciphertext))
        if not isinstance(result, dict):
            raise TokenDecryptionError("A stored token set is not a JSON object.")
        return result


def resolve_encryption_key(config: Any, instance_path: Path) -> str:
    """The Fernet key: from TOKEN_ENCRYPTION_KEY, or (development only) a key file in instance/."""
    configured = config.get("TOKEN_ENCRYPTION_KEY")
    if configured:
        try:
            Fernet(configured)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(
                "TOKEN_ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64-encoded "
                "bytes). Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from exc
        return str(configured)
    if is_production(config):
        raise ConfigurationError(
            "TOKEN_ENCRYPTION_KEY must be set in production (tokens are encrypted at rest)."
        )
    key_file = instance_path / KEY_FILE_NAME
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode("ascii")
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    log.warning("Generated a development token-encryption key at %s", key_file)
    return key


def resolve_secret_key(config: Any, instance_path: Path) -> str:
    """Flask's SECRET_KEY: configured, or (development only) generated once into instance/."""
    configured = str(config.get("SECRET_KEY") or "")
    if configured and is_production(config) and len(configured.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigurationError(
            f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes in production (it signs "
            "sessions). Generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    if configured:
        return configured
    if is_production(config):
        raise ConfigurationError("SECRET_KEY must be set in production (it signs sessions).")
    key_file = instance_path / "secret.key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode("ascii")
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'{form_targets}; "
    "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


def set_security_headers(response: Response, form_targets: str = "") -> Response:
    """Add CSP, framing, referrer and content-type headers to every response."""
    response.headers.setdefault("Content-Security-Policy", CSP.format(form_targets=form_targets))
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def redact_query_secrets(text: str) -> str:
    """``text`` with the values of ``code=`` and ``state=`` query parameters redacted."""
    return _SECRET_QUERY_VALUE.sub(r"\1\2=[redacted]", text)


class RedactQuerySecrets(logging.Filter):
    """A logging filter that redacts ``code=`` / ``state=`` values from the logged message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_query_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


REDACT_QUERY_SECRETS = RedactQuerySecrets()


def _signed_in_pages_not_cached(response: Response) -> None:
    """A page for a signed-in browser is never stored (by the browser, a proxy or the back
    button after signing out); static files stay cacheable."""
    if request.endpoint != "static" and session.get("_user_id"):
        response.headers["Cache-Control"] = "no-store"


def init_app(app: Flask) -> None:
    """Attach the token cipher, CSRF protection and security headers to the app."""
    instance_path = Path(app.instance_path)
    app.extensions["token_cipher"] = TokenCipher(resolve_encryption_key(app.config, instance_path))
    csrf.init_app(app)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # tied to the session instead
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # Secure whenever the app is served over HTTPS (always in production), never in debug.
    served_over_https = str(app.config.get("PUBLIC_URL", "")).startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = not app.debug and (
        served_over_https or is_production(app.config)
    )
    # Flask refuses a session cookie signed longer ago than this (sessions are not "permanent":
    # the cookie also ends with the browser). Remember-me is not used; if it were, the same.
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    app.config["REMEMBER_COOKIE_DURATION"] = SESSION_LIFETIME
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    logging.getLogger("werkzeug").addFilter(REDACT_QUERY_SECRETS)  # the dev server's requests

    @app.after_request
    def _headers(response: Response) -> Response:
        if served_over_https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        _signed_in_pages_not_cached(response)
        return set_security_headers(response)


def token_cipher(app: Flask) -> TokenCipher:
    """The app's token cipher."""
    return app.extensions["token_cipher"]
