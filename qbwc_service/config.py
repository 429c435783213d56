"""Configuration: typed settings read once from ``QBWC_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from qbwc_service.errors import ConfigError

PREFIX = "QBWC_"

#: Environment variables and what they set; printed by ``qbwc-service --help``.
ENV_HELP: dict[str, str] = {
    "QBWC_DATABASE_URL": "SQLAlchemy URL (default: sqlite file instance/qbwc.sqlite3)",
    "QBWC_SECRET_KEY": "secret for session cookies and CSRF (default: generated once, kept in the database)",
    "QBWC_PUBLIC_URL": "URL QBWC reaches us at, used in .qwc files (default http://localhost:8000)",
    "QBWC_LOG_LEVEL": "DEBUG, INFO, WARNING or ERROR (default INFO)",
    "QBWC_BATCH_SIZE": "jobs handed out in one qbXML message (default 50)",
    "QBWC_ITERATOR_PAGE": "records per page (MaxReturned) of an iterated query job without its own (default 500)",
    "QBWC_SESSION_TIMEOUT": "seconds after which a silent QBWC session is abandoned (default 900)",
    "QBWC_MAX_ATTEMPTS": "times a job is sent before it fails (default 5)",
    "QBWC_MAX_BODY_BYTES": "largest SOAP body accepted (default 32 MiB)",
    "QBWC_REDACT_FIELDS": "comma-separated extra qbXML element or payload field names masked in the admin pages",
    "QBWC_LOGIN_MAX_FAILURES": "failed staff logins per e-mail and address before logins pause (default 5)",
    "QBWC_LOGIN_WINDOW_SECONDS": "how long failed staff logins count (default 900)",
}


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of the service, with its default."""

    database_url: str = ""
    secret_key: str = ""
    public_url: str = "http://localhost:8000"
    log_level: str = "INFO"
    instance_path: str = "instance"
    batch_size: int = 50
    #: MaxReturned of an iterated query's pages when the job sets none.
    iterator_page: int = 500
    #: Largest qbXML request document handed out in one sendRequestXML, in bytes.
    batch_bytes: int = 2 * 1024 * 1024
    session_timeout: int = 900
    max_attempts: int = 5
    max_body_bytes: int = 32 * 1024 * 1024
    #: Seconds QBWC is asked to wait when nothing is to do (``none``) or the company is busy.
    postpone_seconds: int = 0
    busy_retry_seconds: int = 60
    min_qbwc_version: str = "2.0.0.0"
    app_name: str = "qbwc-service"
    app_description: str = "Keeps QuickBooks in sync with our application"
    support_url: str = ""
    default_poll_minutes: int = 5
    sql_echo: bool = False
    #: Extra field names (qbXML elements, payload keys) the admin pages mask, besides the built-in ones.
    redact_fields: tuple[str, ...] = ()
    #: Failed staff logins per e-mail and address within the window before logins are refused.
    login_max_failures: int = 5
    login_window_seconds: int = 900
    #: Reverse proxies in front of the service whose X-Forwarded-For/-Proto/-Host are trusted
    #: (0: none, the client's address is the connection's).
    proxy_hops: int = 0

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the instance folder."""
        if self.database_url:
            return self.database_url
        path = Path(self.instance_path).resolve() / "qbwc.sqlite3"
        return f"sqlite:///{path}"

    @property
    def endpoint_url(self) -> str:
        """The SOAP endpoint's public address, as written into ``.qwc`` files."""
        return self.public_url.rstrip("/") + "/qbwc"

    @property
    def support_page(self) -> str:
        """The support address for ``.qwc`` files (the public URL's ``/support`` by default)."""
        return self.support_url or self.public_url.rstrip("/") + "/support"


def _coerce(name: str, current: Any, raw: Any) -> Any:
    if isinstance(current, bool):
        return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes", "on")
    if isinstance(current, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{PREFIX}{name.upper()} must be a whole number, not {raw!r}") from None
    if isinstance(current, tuple):
        if isinstance(raw, str):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return tuple(raw)
    return str(raw)


def load_settings(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Layer defaults, ``QBWC_*`` environment variables and ``overrides`` (lower-case names)."""
    env = os.environ if environ is None else environ
    settings = Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        key = PREFIX + f.name.upper()
        if key in env:
            values[f.name] = _coerce(f.name, getattr(settings, f.name), env[key])
    for name, raw in (overrides or {}).items():
        if name not in Settings.__dataclass_fields__:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = _coerce(name, getattr(settings, name), raw)
    settings = replace(settings, **values)
    if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"QBWC_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {settings.log_level!r}")
    return settings
