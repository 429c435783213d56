"""The application factory: Flask pages and JSON API, with the SOAP endpoint at ``/qbwc``."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

from . import logs
from .config import Settings, load_settings
from .db import make_engine, make_sessionmaker
from .protocol import Protocol
from .soap import make_soap_app

csrf = CSRFProtect()


@dataclass(frozen=True)
class Services:
    """What one application instance shares between requests."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    protocol: Protocol


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the WSGI application; ``config`` overrides settings (lower-case names)."""
    settings = load_settings(config)
    logs.configure(settings.log_level)
    engine = make_engine(settings.effective_database_url, echo=settings.sql_echo)
    services = Services(settings, engine, make_sessionmaker(engine), Protocol(engine, settings))

    app = Flask(__name__, instance_path=None)
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.extensions["qbwc"] = services
    csrf.init_app(app)

    from . import admin
    from .api import bp as api_bp

    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    admin.init_app(app)

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # any database failure means "not healthy"
            return {"status": "unavailable"}, 503
        return {"status": "ok"}, 200

    app.teardown_appcontext(_close_db)
    wsgi: Any = DispatcherMiddleware(app.wsgi_app, {"/qbwc": make_soap_app(services.protocol)})
    if settings.proxy_hops > 0:
        # Only as many X-Forwarded-* entries as there are proxies of ours: the rest is the client's word.
        hops = settings.proxy_hops
        wsgi = ProxyFix(wsgi, x_for=hops, x_proto=hops, x_host=hops)
    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app


def services() -> Services:
    """The current application's services."""
    found: Services = current_app.extensions["qbwc"]
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
