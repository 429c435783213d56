"""The session signing key: generated once, kept in the database, overridden by QBWC_SECRET_KEY, never logged."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, select

from qbwc_service import create_app, logs
from qbwc_service.accounts.app_secret import SESSION_SIGNING_KEY, KeySource, stored_secret
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import AppSecret
from qbwc_service.web.context import services
from tests.conftest import make_test_app
from tests.integration.admin.factories import ADMIN, SUPPORT, login, make_user

HEX_KEY = re.compile(r"[0-9a-f]{64}")
DATABASE_NOTE = "Session signing key: generated and kept in the database (set QBWC_SECRET_KEY to override)"

MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app() -> Iterator[MakeApp]:
    """Build applications (``make_test_app`` arguments; no key unless given) and dispose of their engines."""
    made: list[Flask] = []

    def make(url: str, **overrides: Any) -> Flask:
        made.append(make_test_app(url, **{"secret_key": "", **overrides}))
        return made[-1]

    yield make
    for app in made:
        app.extensions["qbwc"].engine.dispose()


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """The service's log lines as they are written (redacted, formatted), whatever the level configured."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(logs.FactsFormatter())
    handler.addFilter(logs.RedactingFilter())
    logs.get_logger().addHandler(handler)
    yield lines
    logs.get_logger().removeHandler(handler)


def _stored(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [(r.name, r.value) for r in conn.execute(select(AppSecret.name, AppSecret.value))]
    finally:
        engine.dispose()


def test_the_key_is_generated_once_and_every_app_on_the_database_signs_with_it(db_url: str, make_app: MakeApp) -> None:
    """Without QBWC_SECRET_KEY the first app stores a random key and a second app (another worker) reads the same."""
    first, second = make_app(db_url), make_app(db_url)
    key = first.config["SECRET_KEY"]
    assert HEX_KEY.fullmatch(key) and second.config["SECRET_KEY"] == key
    assert _stored(db_url) == [(SESSION_SIGNING_KEY, key)]
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            assert stored_secret(conn, SESSION_SIGNING_KEY) == (key, False)
    finally:
        engine.dispose()
    with first.app_context():
        assert services().signing_key_source is KeySource.DATABASE


def test_a_worker_starting_during_the_first_ones_insert_gets_the_first_ones_key(db_url: str) -> None:
    """A second start while the first has not committed waits for it and adopts its key rather than its own."""
    first_engine, second_engine = make_engine(db_url), make_engine(db_url)
    got: list[tuple[str, bool]] = []

    def second_worker() -> None:
        with second_engine.begin() as conn:
            got.append(stored_secret(conn, SESSION_SIGNING_KEY))

    try:
        with first_engine.begin() as conn:
            key, created = stored_secret(conn, SESSION_SIGNING_KEY)
            worker = threading.Thread(target=second_worker)
            worker.start()
            time.sleep(0.5)
            # Blocked: on PostgreSQL its INSERT waits on our uncommitted row, on SQLite its BEGIN on our lock.
            assert worker.is_alive()
        worker.join(30)
        assert created and got == [(key, False)]
        assert _stored(db_url) == [(SESSION_SIGNING_KEY, key)]
    finally:
        first_engine.dispose()
        second_engine.dispose()


def test_qbwc_secret_key_overrides_the_stored_key(
    db_url: str, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A configured key is used as it is and leaves the database alone, before and after a key was stored."""
    monkeypatch.setenv("QBWC_SECRET_KEY", "from-the-environment")
    configured = create_app({"database_url": db_url, "log_level": "WARNING"})
    try:
        assert configured.config["SECRET_KEY"] == "from-the-environment"
        assert _stored(db_url) == []
        stored = make_app(db_url).config["SECRET_KEY"]  # the empty override stands for an unset variable
        assert stored != "from-the-environment"
        again = create_app({"database_url": db_url, "log_level": "WARNING"})
        assert again.config["SECRET_KEY"] == "from-the-environment"
        again.extensions["qbwc"].engine.dispose()
        assert _stored(db_url) == [(SESSION_SIGNING_KEY, stored)]
    finally:
        configured.extensions["qbwc"].engine.dispose()


def test_the_key_never_reaches_the_logs(db_url: str, make_app: MakeApp, log_lines: list[str]) -> None:
    """Each start logs one line saying where the key is kept and how to override it, never the key itself."""
    keys = [make_app(db_url, log_level="DEBUG").config["SECRET_KEY"] for _ in range(2)]
    make_app(db_url, log_level="DEBUG", secret_key="configured-s3cret-value")
    text = "\n".join(log_lines)
    starts = [line for line in log_lines if "session_signing_key" in line]
    assert len(starts) == 3, text
    assert "info session_signing_key_from_database created=true" in starts[0]
    assert "info session_signing_key_from_database created=false" in starts[1]
    assert "set QBWC_SECRET_KEY to override" in starts[0]
    assert 'info session_signing_key_configured source="QBWC_SECRET_KEY"' in starts[2]
    assert keys[0] == keys[1] and keys[0] not in text and "configured-s3cret-value" not in text


def test_an_unmigrated_database_gets_a_key_per_process_and_a_warning(
    tmp_path: Path, make_app: MakeApp, log_lines: list[str]
) -> None:
    """Without the app_secret table the app still starts, on a key of its own, and the log says to migrate."""
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    first, second = make_app(url), make_app(url)
    assert HEX_KEY.fullmatch(first.config["SECRET_KEY"])
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]
    with first.app_context():
        assert services().signing_key_source is KeySource.PROCESS
    warnings = [line for line in log_lines if " warning session_signing_key_per_process " in line]
    assert len(warnings) == 2 and "run `qbwc-service db upgrade`" in warnings[0]
    assert "sign-ins fail between workers" in warnings[0]


def _signed_in_page(app: Flask, email: str) -> str:
    app.config["WTF_CSRF_ENABLED"] = False
    with app.test_client() as client:
        assert login(client, email).status_code == 302
        return client.get("/companies").get_data(as_text=True)


def test_admin_pages_say_where_the_signing_key_comes_from(db_url: str, make_app: MakeApp, engine: Engine) -> None:
    """Admins read in the page footer whether the key is the database's or QBWC_SECRET_KEY; support staff do not."""
    make_user(engine, ADMIN, "admin")
    make_user(engine, SUPPORT, "support")
    from_database = make_app(db_url)
    assert DATABASE_NOTE in _signed_in_page(from_database, ADMIN)
    assert "Session signing key" not in _signed_in_page(from_database, SUPPORT)
    configured = make_app(db_url, secret_key="configured")
    page = _signed_in_page(configured, ADMIN)
    assert "Session signing key: from QBWC_SECRET_KEY" in page and DATABASE_NOTE not in page
