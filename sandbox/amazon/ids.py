"""Identifier makers: random ones from a caller's seeded ``Random``, stable ones from a hash."""

from __future__ import annotations

import hashlib
import random
import string

ALNUM = string.ascii_letters + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits


_TABLES: dict[str, bytes] = {
    alphabet: bytes(ord(alphabet[i % len(alphabet)]) for i in range(256))
    for alphabet in (ALNUM, UPPER_ALNUM)
}


def random_token(rng: random.Random, length: int, alphabet: str = ALNUM) -> str:
    """``length`` characters from ``alphabet`` (ALNUM or UPPER_ALNUM), drawn from ``rng``.

    Random bytes mapped through a table: fast, and the slight bias does not matter for ids.
    """
    return rng.randbytes(length).translate(_TABLES[alphabet]).decode("ascii")


def stable_token(seed: int, *parts: str, length: int = 13) -> str:
    """Upper-case letters and digits derived from the seed and ``parts`` (same input, same id)."""
    digest = hashlib.sha256(":".join([str(seed), *parts]).encode()).digest()
    return "".join(UPPER_ALNUM[byte % len(UPPER_ALNUM)] for byte in digest[:length])


def customer_id(seed: int, email: str) -> str:
    """An Amazon customer id (``amzn1.account.…``) for a person of a seeded account."""
    return f"amzn1.account.A{stable_token(seed, 'person', email)}"


def account_id(seed: int, key: str) -> str:
    """The id of a seeded Amazon Business account (``amzn1.ab.account.…``; sandbox format)."""
    return f"amzn1.ab.account.A{stable_token(seed, 'account', key)}"
