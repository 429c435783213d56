"""Logging: one line per event, key=value facts, secrets redacted before anything is written."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

LOGGER_NAME = "qbwc"

#: Keys whose values never reach a log line.
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


def redact(text: str) -> str:
    """Mask passwords, tokens and API keys in free text."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "[redacted]" + (m.group(3) if m.lastindex == 3 else ""), text)
    return text


def _clean(key: str, value: Any) -> Any:
    if key.lower() in SECRET_KEYS:
        return "[redacted]"
    if isinstance(value, str):
        value = redact(value)
        return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"
    return value


class RedactingFilter(logging.Filter):
    """Redacts the message and the ``facts`` of every record passing through."""

    def filter(self, record: logging.LogRecord) -> bool:
        facts = getattr(record, "facts", None)
        if isinstance(facts, dict):
            record.facts = {k: _clean(k, v) for k, v in facts.items()}
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
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


def configure(level: str = "INFO") -> None:
    """Send the service's log lines to stderr, redacted, at ``level``."""
    logger = get_logger()
    logger.setLevel(level.upper())
    if not any(getattr(h, "_qbwc", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(FactsFormatter())
        handler.addFilter(RedactingFilter())
        handler._qbwc = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
