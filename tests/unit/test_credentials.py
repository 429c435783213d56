"""Secrets: no argon2 work at import, a cheap hasher for tests, hashes that verify across settings."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from qbwc_service.accounts import credentials

COUNT_HASHES_ON_IMPORT = """
import argon2
calls = []
real = argon2.PasswordHasher.hash
argon2.PasswordHasher.hash = lambda self, *a, **k: calls.append(1) or real(self, *a, **k)
import qbwc_service.accounts.credentials
print(len(calls))
"""


@pytest.fixture
def fresh_hasher() -> Iterator[None]:
    """Forget the hasher made so far, before and after the test."""
    credentials._hasher.cache_clear()
    credentials._dummy_hash.cache_clear()
    yield
    credentials._hasher.cache_clear()
    credentials._dummy_hash.cache_clear()


def test_importing_credentials_computes_no_hash() -> None:
    """Importing the module hashes nothing: the hash of unknown users is made on first use."""
    out = subprocess.run([sys.executable, "-c", COUNT_HASHES_ON_IMPORT], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


@pytest.mark.usefixtures("fresh_hasher")
def test_production_hashes_use_argon2_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without QBWC_TEST_FAST_HASH a secret is hashed with argon2-cffi's default cost."""
    monkeypatch.delenv(credentials.FAST_HASH_ENV, raising=False)
    default = PasswordHasher()
    assert credentials.hash_secret("s3cret").startswith(
        f"$argon2id$v=19$m={default.memory_cost},t={default.time_cost},p={default.parallelism}$"
    )


@pytest.mark.usefixtures("fresh_hasher")
def test_fast_hashes_and_default_hashes_verify_under_either_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """QBWC_TEST_FAST_HASH=1 hashes cheaply, and a hash verifies whatever parameters made it."""
    monkeypatch.setenv(credentials.FAST_HASH_ENV, "1")
    cheap = credentials.hash_secret("s3cret")
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    strong = PasswordHasher().hash("other")
    assert credentials.verify_secret(cheap, "s3cret") and credentials.verify_secret(strong, "other")
    assert not credentials.verify_secret(strong, "s3cret") and not credentials.verify_secret(None, "s3cret")
    monkeypatch.delenv(credentials.FAST_HASH_ENV)
    credentials._hasher.cache_clear()
    assert credentials.verify_secret(cheap, "s3cret")


def test_tokens_hash_with_sha256_and_tokens_hashed_with_argon2_before_still_verify() -> None:
    """A QBWC token is 192 random bits: SHA-256, checked in constant time; an older argon2 hash is upgraded."""
    token = credentials.new_token()
    stored = credentials.hash_token(token)
    assert stored == "sha256$" + hashlib.sha256(token.encode()).hexdigest()
    assert credentials.verify_token(stored, token) and not credentials.verify_token(stored, token + "x")
    assert not credentials.verify_token(None, token) and not credentials.token_needs_rehash(stored)
    old = PasswordHasher().hash(token)
    assert credentials.verify_token(old, token) and not credentials.verify_token(old, "wrong")
    assert credentials.token_needs_rehash(old)
