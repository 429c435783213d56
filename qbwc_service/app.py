"""The application factory: Flask pages and JSON API, with the SOAP endpoint at ``/qbwc``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

from qbwc_service import logs, workflows
from qbwc_service.accounts.app_secret import session_signing_key
from qbwc_service.config import load_settings
from qbwc_service.db.engine import make_engine, make_sessionmaker
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.qbwc.soap import make_soap_app
from qbwc_service.web import admin, context
from qbwc_service.web.api import bp as api_bp
from qbwc_service.web.metrics import bp as metrics_bp

#: Where the application keeps its :class:`~qbwc_service.qbwc.protocol.Protocol` (tests reach it here).
PROTOCOL_EXTENSION = "qbwc_protocol"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the WSGI application; ``config`` overrides settings (lower-case names)."""
    settings = load_settings(config)
    logs.configure(settings.log_level, settings.log_format, settings.redact_fields, settings.log_dir)
    workflows.install()  # the workflows' job kinds, in every process that serves the endpoint
    engine = make_engine(
        settings.effective_database_url, echo=settings.sql_echo, pool_size=settings.db_pool_size,
        statement_timeout=settings.statement_timeout,
    )  # fmt: skip
    protocol = Protocol(engine, settings)
    signing_key = session_signing_key(engine, settings.secret_key)

    app = Flask(__name__, instance_path=None)
    app.config.update(
        SECRET_KEY=signing_key.value,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        WTF_CSRF_TIME_LIMIT=None,
    )
    context.init_app(app, context.Services(settings, engine, make_sessionmaker(engine), signing_key.source))
    app.extensions[PROTOCOL_EXTENSION] = protocol
    csrf = CSRFProtect(app)
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(metrics_bp)
    admin.init_app(app)

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # any database failure means "not healthy"
            return {"status": "unavailable"}, 503
        return {"status": "ok"}, 200

    wsgi: Any = DispatcherMiddleware(app.wsgi_app, {"/qbwc": make_soap_app(protocol)})
    if settings.proxy_hops > 0:
        # Only as many X-Forwarded-* entries as there are proxies of ours: the rest is the client's word.
        hops = settings.proxy_hops
        wsgi = ProxyFix(wsgi, x_for=hops, x_proto=hops, x_host=hops)
    app.wsgi_app = wsgi  # type: ignore[method-assign]
    return app
