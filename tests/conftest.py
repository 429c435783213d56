"""Shared fixtures: migrated databases (SQLite always, PostgreSQL when tests/pg.py finds one), apps, servers."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, text
from werkzeug.serving import BaseWSGIServer, make_server

from qbwc_service import create_app
from qbwc_service.accounts import companies
from qbwc_service.accounts.credentials import FAST_HASH_ENV
from qbwc_service.config import load_settings
from qbwc_service.db import migrate
from qbwc_service.db.engine import make_engine
from qbwc_service.qbwc.protocol import Protocol
from tests import pg

ROOT = Path(__file__).resolve().parents[1]
SPEC_DIR = ROOT.parent / "shared" / "spec"
WSDL = SPEC_DIR / "qbwc" / "QBWebConnectorSvc.wsdl"
WSDL_11OPS = SPEC_DIR / "qbwc" / "QBWebConnectorSvc.11ops.assembled.wsdl"
TABLES = (
    "resolved_entry", "setup_step", "setup_run", "company_reset", "integration_profile",
    "job_event", "job_dependency", "job", "qbwc_session", "staff_user", "login_failure", "api_key", "company",
    "app_secret", "qb_record", "incident_delivery", "incident_event", "incident", "lease", "document",
)  # fmt: skip


def pytest_report_header() -> str:
    """Say in the header whether the PostgreSQL tests run, and on what."""
    return pg.detected().describe()


def pytest_configure(config: pytest.Config) -> None:
    """Hash with argon2's cheapest parameters here and in every server or CLI process a test starts."""
    os.environ[FAST_HASH_ENV] = "1"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach the network: a Python socket may connect to this machine only."""
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])
            if host != "localhost" and not ipaddress.ip_address(host.split("%")[0]).is_loopback:
                raise RuntimeError(f"tests must not reach the network (tried {host})")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def need_spec() -> None:
    """Skip the calling test when ../shared/spec is not beside the repository."""
    if not WSDL.exists():
        pytest.skip(f"the reference spec is absent ({SPEC_DIR}); clone shared/ beside the repo")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A PostgreSQL schema of our own, migrated once (skips without PostgreSQL)."""
    found = pg.detected()
    if found.url is None:
        pytest.skip(found.reason)
    schema = f"qbwc_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(found.url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        pytest.skip(f"PostgreSQL at {pg.shown(found.url)} is not reachable: {exc.__class__.__name__}")
    url = postgres_url(found.url, schema)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_url(postgres_schema: str) -> Iterator[str]:
    """The migrated PostgreSQL schema, emptied after the test (skips without PostgreSQL)."""
    yield postgres_schema
    engine = make_engine(postgres_schema)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()


def postgres_url(base: str, schema: str) -> str:
    """The test PostgreSQL URL ``base`` with ``search_path`` set to ``schema``."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite copy, or the PostgreSQL schema truncated after the test."""
    if request.param == "sqlite":
        path = tmp_path / "qbwc.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_schema")
    yield url
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated, empty SQLite database (for tests that need only one backend)."""
    path = tmp_path / "qbwc.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def make_test_app(url: str, **overrides: Any) -> Flask:
    """An application on ``url`` with test settings."""
    config: dict[str, Any] = {"database_url": url, "secret_key": "test-secret", "log_level": "WARNING"}
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    """The application on the test database."""
    application = make_test_app(db_url)
    yield application
    application.extensions["qbwc"].engine.dispose()


@pytest.fixture
def engine(app: Flask) -> Engine:
    """The application's engine."""
    found: Engine = app.extensions["qbwc"].engine
    return found


@pytest.fixture
def protocol(engine: Engine) -> Protocol:
    """The QBWC operations on the test database, with the default settings."""
    return Protocol(engine, load_settings({"log_level": "WARNING"}, environ={}))


@pytest.fixture
def company(engine: Engine) -> companies.NewCompany:
    """A company connection ``acme`` (QBWC user ``acme-qbwc``) with its one-time token."""
    with engine.begin() as conn:
        return companies.create_company(conn, "acme", "acme-qbwc")


def _buffered(wsgi_app: Any) -> Any:
    """``wsgi_app`` with each response body read whole and its iterable closed before it is written.

    Werkzeug's development server skips ``close()`` when a client drops the connection mid-body
    (a browser leaving a page while a static file still downloads), which leaks the open file and,
    under ``-W error``, fails whichever test the ResourceWarning lands in. Gunicorn always closes.
    """

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = wsgi_app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return app


class LiveServer:
    """A WSGI app served over real HTTP on a free localhost port, in a thread."""

    def __init__(self, wsgi_app: Any) -> None:
        self.app = wsgi_app
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, _buffered(wsgi_app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The application served over HTTP on localhost."""
    with LiveServer(app) as server:
        yield server
