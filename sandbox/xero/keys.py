"""The sandbox's RSA signing key for id_tokens and access tokens, and its JWKS.

One key per process, generated on first use (startup of the first app), so JWKS caches in the
plugin stay valid across ``/_sandbox/reset``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

_lock = threading.Lock()
_key: SigningKey | None = None


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair with its key id."""

    private_key: rsa.RSAPrivateKey
    kid: str

    def sign(self, claims: dict[str, Any]) -> str:
        """An RS256 JWT carrying ``claims``, with ``kid`` in its header."""
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})

    def decode(self, token: str, audience: str) -> dict[str, Any]:
        """The claims of a token this key signed (times are checked by the caller, on the
        sandbox clock). Raises ``jwt.InvalidTokenError``."""
        return jwt.decode(
            token,
            self.private_key.public_key(),
            algorithms=["RS256"],
            audience=audience,
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )

    def jwks(self) -> dict[str, Any]:
        """The public key as a JSON Web Key Set."""
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}


def signing_key() -> SigningKey:
    """The process's signing key (generated once)."""
    global _key
    with _lock:
        if _key is None:
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            numbers = private_key.public_key().public_numbers()
            digest = hashlib.sha256(numbers.n.to_bytes(256, "big")).digest()
            kid = base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")
            _key = SigningKey(private_key=private_key, kid=kid)
        return _key
