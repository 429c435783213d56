"""The request context: what one application shares between requests, and the request's DB session.

Blueprints import this module, never the application factory (the role ``flaskr/db.py`` plays).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from qbwc_service.accounts.app_secret import KeySource
from qbwc_service.config import Settings

EXTENSION = "qbwc"


@dataclass(frozen=True)
class Services:
    """What one application instance shares between requests."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    #: Where the key signing session cookies and CSRF tokens came from (the admin pages say).
    signing_key_source: KeySource


def init_app(app: Flask, services: Services) -> None:
    """Attach ``services`` to ``app`` and close each request's session at teardown."""
    app.extensions[EXTENSION] = services
    app.teardown_appcontext(_close_db)


def services() -> Services:
    """The current application's services."""
    found: Services = current_app.extensions[EXTENSION]
    return found


def get_db() -> Session:
    """The request's ORM session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = services().sessions()
    db: Session = g.db
    return db


def _close_db(exc: BaseException | None) -> None:
    db: Session | None = g.pop("db", None)
    if db is not None:
        if exc is not None:
            db.rollback()
        db.close()


def bearer_token() -> str | None:
    """The token of the request's ``Authorization: Bearer <token>`` header, if it has one."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None
