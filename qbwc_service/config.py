"""Configuration: typed settings read once from ``QBWC_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from qbwc_service.errors import ConfigError

PREFIX = "QBWC_"
#: The values of ``QBWC_LOG_FORMAT``.
LOG_FORMATS = ("text", "json")

#: The longest poll interval of a company connection, in minutes: a daily sync starts within
#: one poll of its time, and the schedule promises a window of 15 minutes.
MAX_POLL_MINUTES = 15

T = TypeVar("T")


def setting(default: T, help: str, *, default_text: str | None = None) -> T:
    """A field of :class:`Settings`: its default, what it sets, and how to read the default.

    ``help`` and ``default_text`` (for defaults a literal would not explain) are what
    ``qbwc-service --help`` and the README's table show; backticks mark code.
    """
    return field(default=default, metadata={"help": help, "default_text": default_text})


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of the service, with its default; each is the environment variable ``QBWC_<NAME>``."""

    database_url: str = setting(
        "",
        "SQLAlchemy URL of the database (`sqlite:///...` or `postgresql+psycopg://...`)",
        default_text="SQLite file `qbwc.sqlite3` in `QBWC_INSTANCE_PATH`",
    )
    secret_key: str = setting(
        "", "signs session cookies and CSRF tokens", default_text="generated once and kept in the database"
    )
    public_url: str = setting(
        "http://localhost:8000", "the address QBWC reaches the service at; written into `.qwc` files"
    )
    log_level: str = setting("INFO", "`DEBUG`, `INFO`, `WARNING` or `ERROR`")
    instance_path: str = setting("instance", "folder of the default SQLite database")
    batch_size: int = setting(
        50, "jobs handed out in one qbXML message (fewer: shorter calls, more round trips; see `docs/deploy.md`)"
    )
    iterator_page: int = setting(
        500, "records per page (MaxReturned) of an iterated query job that sets no `max_returned` of its own"
    )
    batch_bytes: int = setting(
        2 * 1024 * 1024,
        "largest qbXML request document handed out in one sendRequestXML, in bytes",
        default_text="2097152 = 2 MiB",
    )
    session_timeout: int = setting(900, "seconds before a silent QBWC session is abandoned and its jobs requeued")
    # Why 0: a Web Connector runs one session at a time, so its new authenticate means its
    # old session is over and QuickBooks no longer works on that session's message (the
    # reply was lost, or QBWC was closed); waiting would only stall the company. Only a
    # second Web Connector (the same .qwc on two PCs) can authenticate while QuickBooks
    # still works. The old ticket calling again then shows it, and for an hour after that
    # (sessions.RIVAL_MEMORY) the company's sessions are not superseded at all. A value
    # above 0 protects a slow QuickBooks even from the first such collision, at the cost
    # of a returning Web Connector answered `busy` until its old session is that quiet.
    # The whole rule: docs/architecture.md, step 2.
    supersede_after: int = setting(
        0,
        "seconds a session holding jobs in flight must have been quiet (no call answered, no job leased) "
        "before a new authenticate of its company supersedes it; its jobs are requeued, marked to be looked "
        "up first. A session with nothing in flight is superseded at once",
        default_text="`0`: at once, since a Web Connector runs one session at a time; only a second one "
        "(refused once seen) could arrive while QuickBooks still works",
    )
    max_attempts: int = setting(5, "times a job is sent before it fails")
    db_pool_size: int = setting(
        2,
        "PostgreSQL connections each service process keeps open (as many again may open in a burst); a gunicorn "
        "sync worker uses one at a time",
    )
    statement_timeout: int = setting(
        30,
        "seconds a statement of the service may run on PostgreSQL, and a transaction of it sit idle, before "
        "PostgreSQL cancels it; the QBWC call is then answered as when the database is down and tried again on "
        "the next run. `0`: no limit",
    )
    max_body_bytes: int = setting(
        32 * 1024 * 1024,
        "largest SOAP request accepted, in bytes (large query answers arrive this way)",
        default_text="33554432 = 32 MiB",
    )
    postpone_seconds: int = setting(
        0, "seconds QBWC is asked to wait when there is nothing to do; `0` leaves it to QBWC's schedule"
    )
    busy_retry_seconds: int = setting(60, "seconds QBWC is asked to wait when another run of the company is open")
    retry_base_seconds: int = setting(
        30,
        "seconds before a job whose answer can be retried (QuickBooks busy, a lost reply) is sent again; doubled "
        "at each attempt, at most an hour",
    )
    min_qbwc_version: str = setting("2.0.0.0", "oldest Web Connector version allowed to log in")
    app_name: str = setting("qbwc-service", "application name in `.qwc` files, followed by the company's name")
    app_description: str = setting(
        "Keeps QuickBooks in sync with our application", "application description in `.qwc` files"
    )
    support_url: str = setting("", "support page named in `.qwc` files", default_text="the public URL's `/support`")
    default_poll_minutes: int = setting(
        5, f"minutes between QBWC runs of a new company connection (1 to {MAX_POLL_MINUTES})"
    )
    # Why a recheck at all: a manual company's work goes only when someone asks to sync
    # now, and the service cannot call the Web Connector; asking it back soon (authenticate's
    # postpone) is what makes "sync now" start within this many seconds, not a whole poll
    # interval later. Only a manual company with work waiting is asked; one with nothing
    # queued, and a daily one far from its time, keep the Web Connector's own schedule.
    manual_recheck_seconds: int = setting(
        60,
        "seconds after which the Web Connector of a manual-schedule company with work waiting is asked to "
        "come back, so that a sync now starts that soon; `0` leaves it to QBWC's schedule",
    )
    sql_echo: bool = setting(False, "log every SQL statement (`1` or `true` turns it on)")
    redact_fields: tuple[str, ...] = setting(
        (), "comma-separated extra qbXML element or payload field names masked on the job pages"
    )
    login_max_failures: int = setting(5, "failed staff sign-ins per e-mail and IP address before sign-ins pause")
    login_window_seconds: int = setting(900, "seconds over which failed staff sign-ins count")
    proxy_hops: int = setting(
        0,
        "reverse proxies in front of the service (nginx, a load balancer) whose "
        "`X-Forwarded-For`/`-Proto`/`-Host` are trusted; set it behind a proxy, or every sign-in "
        "counts as the proxy's address",
    )
    log_format: str = setting(
        "text", "`text` (`time level event key=value ...`) or `json` (one JSON object a line, for a log pipeline)"
    )
    log_dir: str = setting(
        "", "folder the service also writes `qbwc-service.log` to", default_text="none: standard error only"
    )
    metrics_token: str = setting(
        "",
        "bearer token a Prometheus scraper sends for `/metrics`",
        default_text="none: `/metrics` answers 404",
    )
    hosts: int = setting(
        1,
        "hosts (machines or containers) serving this database; above 1 needs PostgreSQL, "
        "which `qbwc-service doctor` checks",
    )

    dashboard_refresh_seconds: int = setting(
        5, "seconds between the dashboard's live updates of its counts (in the browser, without reloading)"
    )
    alert_late_factor: int = setting(
        3,
        "an incident opens when a company has not polled for this many times its poll interval while jobs "
        "wait; `0` turns the rule off",
    )
    alert_silent_hours: int = setting(
        24, "an incident opens when a company has not polled for this many hours, work or not; `0` turns it off"
    )
    alert_failed_sessions: int = setting(
        3, "an incident opens when this many of a company's last Web Connector sessions all failed; `0`: off"
    )
    alert_failed_jobs: int = setting(
        10, "an incident opens when this many of a company's jobs are failed (until retried); `0`: off"
    )
    alert_sweep_seconds: int = setting(
        60,
        "seconds between alert sweeps; each gunicorn worker offers one and a database lease lets one run; "
        "`0`: workers never sweep (run `qbwc-service alerts check` from cron)",
    )
    alert_webhook_url: str = setting("", "URL incidents and recoveries are POSTed to as signed JSON; empty: none")
    alert_webhook_secret: str = setting(
        "", "key of the HMAC-SHA256 signature of each webhook (header `X-QBWC-Signature`); required with a URL"
    )
    alert_email_to: tuple[str, ...] = setting((), "comma-separated addresses incidents are e-mailed to; empty: none")
    alert_email_from: str = setting("qbwc-service@localhost", "sender address of the alert e-mails")
    smtp_host: str = setting("localhost", "SMTP server of the alert e-mails")
    smtp_port: int = setting(25, "its port (`587` with STARTTLS, `465` with TLS)")
    smtp_security: str = setting("none", "`none`, `starttls` or `tls`")
    smtp_user: str = setting("", "SMTP login; empty: none")
    smtp_password: str = setting("", "SMTP password (never logged)")

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
    settings = replace(settings, log_format=settings.log_format.lower())
    if not 1 <= settings.default_poll_minutes <= MAX_POLL_MINUTES:
        raise ConfigError(
            f"QBWC_DEFAULT_POLL_MINUTES must be between 1 and {MAX_POLL_MINUTES} minutes (a daily sync starts "
            f"within one poll of its time), not {settings.default_poll_minutes}"
        )
    if settings.manual_recheck_seconds < 0:
        raise ConfigError(f"QBWC_MANUAL_RECHECK_SECONDS must be 0 or more, not {settings.manual_recheck_seconds}")
    if settings.retry_base_seconds < 0:
        raise ConfigError(f"QBWC_RETRY_BASE_SECONDS must be 0 or more, not {settings.retry_base_seconds}")
    if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"QBWC_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {settings.log_level!r}")
    if settings.smtp_security not in ("none", "starttls", "tls"):
        raise ConfigError(f"QBWC_SMTP_SECURITY must be none, starttls or tls, not {settings.smtp_security!r}")
    if settings.log_format not in LOG_FORMATS:
        raise ConfigError(f"QBWC_LOG_FORMAT must be {' or '.join(LOG_FORMATS)}, not {settings.log_format!r}")
    return settings


@dataclass(frozen=True, slots=True)
class EnvVar:
    """One environment variable of the service, as ``--help`` and the README list it."""

    name: str
    help: str
    #: The default in words, or None when ``default`` (a literal) says it.
    default_text: str | None
    default: str


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def env_vars() -> list[EnvVar]:
    """Every ``QBWC_*`` variable, in the order of :class:`Settings`."""
    return [
        EnvVar(PREFIX + f.name.upper(), f.metadata["help"], f.metadata["default_text"], _literal(f.default))
        for f in fields(Settings)
    ]


def _plain(text: str) -> str:
    return text.replace("`", "")


#: Environment variables and what they set, with their defaults; printed by ``qbwc-service --help``.
ENV_HELP: dict[str, str] = {
    var.name: f"{_plain(var.help)} (default: {_plain(var.default_text) if var.default_text else var.default or 'none'})"
    for var in env_vars()
}
