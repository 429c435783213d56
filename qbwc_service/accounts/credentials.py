"""Secrets: staff passwords (argon2), QBWC tokens and API keys (SHA-256), tickets.

A password is chosen by a person, so it gets argon2's slow hash. A QBWC token and an API
key are 192 and 256 random bits drawn here: no guessing attack can use a slow hash's
delay on those, and every authenticate pays for it, so they get SHA-256. A token hashed
with argon2 before (older rows) still verifies, and is stored as SHA-256 from its next
authenticate on (:func:`token_needs_rehash`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
import uuid

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

#: Set to ``1`` (the test suite does) for argon2's cheapest parameters: fast, and no protection.
FAST_HASH_ENV = "QBWC_TEST_FAST_HASH"


@functools.cache
def _hasher() -> PasswordHasher:
    """argon2id with its default cost, or the cheapest one under ``QBWC_TEST_FAST_HASH=1``.

    A hash carries its own parameters, so hashes made under either setting verify under both.
    """
    if os.environ.get(FAST_HASH_ENV) == "1":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when a user name is unknown, so both paths cost one argon2 check."""
    return _hasher().hash("not a real token")


def new_token() -> str:
    """A fresh QBWC password: 32 random URL-safe characters, typed once into QBWC."""
    return secrets.token_urlsafe(24)


def new_ticket() -> str:
    """An unguessable QBWC session ticket."""
    return secrets.token_urlsafe(32)


def new_guid() -> str:
    """A GUID in braces, as ``.qwc`` files carry OwnerID and FileID."""
    return "{" + str(uuid.uuid4()).upper() + "}"


def hash_secret(secret: str) -> str:
    """Hash a token or password with argon2id."""
    return _hasher().hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """Whether ``secret`` matches ``stored_hash``; a missing hash still costs a check."""
    try:
        return _hasher().verify(stored_hash or _dummy_hash(), secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


#: How a QBWC token's SHA-256 is stored (argon2 hashes start with ``$argon2``).
TOKEN_PREFIX = "sha256$"  # noqa: S105 (a format marker, not a secret)


def hash_token(token: str) -> str:
    """Hash a QBWC token (high entropy: SHA-256)."""
    return TOKEN_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def verify_token(stored_hash: str | None, token: str) -> bool:
    """Whether ``token`` matches the stored hash: SHA-256, or argon2 from before (constant time either way)."""
    if stored_hash is not None and not stored_hash.startswith(TOKEN_PREFIX):
        return verify_secret(stored_hash, token)
    return hmac.compare_digest(stored_hash or TOKEN_PREFIX, hash_token(token)) and stored_hash is not None


def token_needs_rehash(stored_hash: str | None) -> bool:
    """Whether a verified token's stored hash is of the old argon2 kind, to be stored as SHA-256."""
    return stored_hash is not None and not stored_hash.startswith(TOKEN_PREFIX)


def new_api_key() -> tuple[str, str, str]:
    """A new JSON API key: ``(key, prefix, sha256 hex)``; the key is shown once."""
    key = "qbwc_" + secrets.token_urlsafe(32)
    return key, key[:12], api_key_digest(key)


def api_key_digest(key: str) -> str:
    """SHA-256 of an API key (high-entropy keys need no slow hash)."""
    return hashlib.sha256(key.encode()).hexdigest()


def digest_matches(stored: str, key: str) -> bool:
    """Constant-time comparison of a stored digest with the digest of ``key``."""
    return hmac.compare_digest(stored, api_key_digest(key))
