"""Logging: one line per event with its facts, secrets redacted before anything is written.

Two formats (``QBWC_LOG_FORMAT``): ``text``, ``time level event key=value ...`` for people and
``grep``, and ``json``, one JSON object a line keyed by ``company``, ``session`` and ``job``
for a log pipeline. The same filter redacts both: passwords, tokens and keys, the fields of
``QBWC_REDACT_FIELDS`` (as facts, payload keys, qbXML elements or ``name=value`` text) and
card numbers.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qbwc_service.redaction import Redactor

LOGGER_NAME = "qbwc"
#: Libraries whose log lines go through the same handlers, redacted: Spyne logs a SOAP body it
#: could not read whole, password included.
LIBRARY_LOGGERS = ("spyne",)
#: The file written in ``QBWC_LOG_DIR`` when it is set.
LOG_FILE = "qbwc-service.log"

#: Keys whose values never reach a log line, besides the redactor's own (passwords, tokens, cards).
SECRET_KEYS = frozenset({
    "token", "password", "strpassword", "api_key", "key", "secret", "ticket_secret",
    "webhook_secret", "alert_webhook_secret", "smtp_password",
})  # fmt: skip
_SECRET_PATTERNS = (
    re.compile(r"(<strPassword>)(.*?)(</strPassword>)", re.S),
    re.compile(r"((?:password|token|api_key|secret)\s*[=:]\s*)(\S+)", re.I),
    re.compile(r"(qbwc_)[A-Za-z0-9_\-]{20,}"),
)
MAX_VALUE_CHARS = 500
#: The facts every JSON line carries (``null`` when the event has none), and the facts they are read from.
KEYED = {"company": ("company",), "session": ("session",), "job": ("job", "job_id")}


def redact(text: str) -> str:
    """Mask passwords, tokens and API keys in free text."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "[redacted]" + (m.group(3) if m.lastindex == 3 else ""), text)
    return text


class RedactingFilter(logging.Filter):
    """Redacts the message and the ``facts`` of every record passing through.

    ``fields`` are masked besides the built-in secrets: the names of ``QBWC_REDACT_FIELDS``.
    """

    def __init__(self, fields: Iterable[str] = ()) -> None:
        super().__init__()
        self.fields = tuple(fields)
        self._redactor: Redactor | None = None

    @property
    def redactor(self) -> Redactor:
        """The redaction rules of the admin pages, with the log's secret keys (made on first use)."""
        if self._redactor is None:
            from qbwc_service.redaction import Redactor

            self._redactor = Redactor(SECRET_KEYS | set(self.fields))
        return self._redactor

    def text(self, value: str) -> str:
        """Free text, redacted and trimmed."""
        value = redact(self.redactor.line(value))
        return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"

    def clean(self, key: str, value: Any) -> Any:
        """A fact's value with secrets masked, nested dicts and lists included."""
        if self.redactor.is_secret(key):
            return "[redacted]"
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.clean(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.clean("", v) for v in value]
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        facts = getattr(record, "facts", None)
        if isinstance(facts, dict):
            record.facts = {k: self.clean(k, v) for k, v in facts.items()}
        if isinstance(record.msg, str):
            # The arguments are merged first: a secret may be one of them.
            record.msg, record.args = self.text(record.getMessage()), None
        return True


class FactsFormatter(logging.Formatter):
    """``time level event key=value ...``: readable by people and by ``grep``."""

    def format(self, record: logging.LogRecord) -> str:
        facts = getattr(record, "facts", {}) or {}
        parts = [self.formatTime(record), record.levelname.lower(), record.getMessage()]
        parts += [f"{k}={json.dumps(v, default=str, ensure_ascii=False)}" for k, v in facts.items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC), ``level``, ``event``, ``company``, ``session``, ``job``, the facts."""

    def format(self, record: logging.LogRecord) -> str:
        facts = dict(getattr(record, "facts", {}) or {})
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        for key, sources in KEYED.items():
            found = [facts.pop(s) for s in sources if s in facts]
            line[key] = found[0] if found else None
        for key, value in facts.items():
            line[key if key not in line else f"fact_{key}"] = value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


FORMATTERS: dict[str, type[logging.Formatter]] = {"text": FactsFormatter, "json": JsonFormatter}


def get_logger() -> logging.Logger:
    """The service's logger, with the redacting filter on it."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger


def log(level: int, event: str, **facts: Any) -> None:
    """Log ``event`` (a snake_case fact such as ``job_leased``) with its facts."""
    logger = get_logger()
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={"facts": facts})


def configure(level: str = "INFO", fmt: str = "text", redact_fields: Iterable[str] = (), log_dir: str = "") -> None:
    """Send the service's log lines to stderr (and ``log_dir``'s file), redacted, at ``level``, in ``fmt``.

    Configuring again replaces the handlers and the filter: the last call's settings hold.
    """
    logger = get_logger()
    logger.setLevel(level.upper())
    fields = tuple(redact_fields)
    for old in [f for f in logger.filters if isinstance(f, RedactingFilter)]:
        logger.removeFilter(old)
    logger.addFilter(RedactingFilter(fields))
    libraries = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    for each in (logger, *libraries):
        for handler in [h for h in each.handlers if getattr(h, "_qbwc", False)]:
            each.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_dir:
        # Watched: a file moved away by logrotate is reopened; each worker appends whole lines.
        handlers.append(logging.handlers.WatchedFileHandler(Path(log_dir) / LOG_FILE, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(FORMATTERS[fmt]())
        handler.addFilter(RedactingFilter(fields))
        handler._qbwc = True  # type: ignore[attr-defined]
        for each in (logger, *libraries):
            each.addHandler(handler)
    for library in libraries:
        library.setLevel(logging.WARNING)
        library.propagate = False
    logger.propagate = False
