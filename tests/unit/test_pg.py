"""tests/pg.py: how the suite decides whether, and where, the PostgreSQL tests run."""

from __future__ import annotations

from tests import pg

NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/test"  # nothing listens on port 1


def test_an_unreachable_server_gives_a_skip_reason_naming_it() -> None:
    """With nothing set and no server at the default address, the reason names that address and the fix."""
    found = pg.detect({}, default=NOWHERE)
    assert found.url is None
    assert found.reason.startswith(f"no PostgreSQL at {NOWHERE}: ")
    assert "port 1" in found.reason and found.reason.endswith("; set QBWC_TEST_POSTGRES_URL")
    assert found.describe() == f"PostgreSQL tests skip: {found.reason}"


def test_an_explicit_url_wins_without_a_probe() -> None:
    """QBWC_TEST_POSTGRES_URL is used as given, and its password is hidden when shown."""
    url = "postgresql+psycopg://ci:secret@db.invalid:5433/ci"
    found = pg.detect({"QBWC_TEST_POSTGRES_URL": url}, default=NOWHERE)
    assert found.url == url
    assert "secret" not in found.describe() and "db.invalid:5433/ci" in found.describe()


def test_an_explicit_off_disables() -> None:
    """QBWC_TEST_POSTGRES=off, or QBWC_TEST_POSTGRES_URL set and empty, turns the tests off and says so."""
    off = pg.detect({"QBWC_TEST_POSTGRES": "off", "QBWC_TEST_POSTGRES_URL": "postgresql+psycopg://x@h/db"})
    assert off.url is None and "QBWC_TEST_POSTGRES=off" in off.reason
    empty = pg.detect({"QBWC_TEST_POSTGRES_URL": ""})
    assert empty.url is None and "empty" in empty.reason
