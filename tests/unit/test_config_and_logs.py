"""Settings layering, log redaction and small protocol helpers."""

from __future__ import annotations

import logging

import pytest

from qbwc_service.config import load_settings
from qbwc_service.errors import ConfigError
from qbwc_service.logs import FactsFormatter, RedactingFilter, redact
from qbwc_service.qbwc.handshake import version_key
from qbwc_service.qbwc.outcomes import job_id_of


def test_environment_then_overrides() -> None:
    """Environment variables override defaults and explicit overrides win over both."""
    env = {"QBWC_BATCH_SIZE": "7", "QBWC_PUBLIC_URL": "https://x.example", "QBWC_LOG_LEVEL": "debug"}
    settings = load_settings({"batch_size": 3}, environ=env)
    assert (settings.batch_size, settings.public_url, settings.endpoint_url) == (
        3,
        "https://x.example",
        "https://x.example/qbwc",
    )
    assert load_settings(environ={}).effective_database_url.startswith("sqlite:///")


def test_bad_settings_are_named() -> None:
    """A malformed number or an unknown setting raises a ConfigError naming it."""
    with pytest.raises(ConfigError, match="QBWC_BATCH_SIZE must be a whole number"):
        load_settings(environ={"QBWC_BATCH_SIZE": "many"})
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings({"nonsense": 1}, environ={})
    with pytest.raises(ConfigError, match=r"QBWC_DEFAULT_POLL_MINUTES must be between 1 and 15 minutes .*, not 30"):
        load_settings(environ={"QBWC_DEFAULT_POLL_MINUTES": "30"})
    with pytest.raises(ConfigError, match="QBWC_MANUAL_RECHECK_SECONDS must be 0 or more"):
        load_settings(environ={"QBWC_MANUAL_RECHECK_SECONDS": "-1"})


def test_redaction_masks_secrets_in_text_and_facts() -> None:
    """Passwords in SOAP bodies, key=value secrets, API keys and secret-named facts are masked."""
    assert redact("<strPassword>hunter2</strPassword>") == "<strPassword>[redacted]</strPassword>"
    assert "hunter2" not in redact("password=hunter2 token: abc")
    assert "abcdefghijklmnopqrstuvwxyz" not in redact("key qbwc_abcdefghijklmnopqrstuvwxyz123")
    record = logging.LogRecord("qbwc", logging.INFO, __file__, 1, "authenticate", None, None)
    record.facts = {"token": "s3cret", "username": "joe"}
    RedactingFilter().filter(record)
    line = FactsFormatter().format(record)
    assert "s3cret" not in line and 'username="joe"' in line and "[redacted]" in line


@pytest.mark.parametrize(("request_id", "job_id"), [("12", 12), ("12.3", 12), ("", None), (None, None), ("abc", None)])
def test_request_ids_map_back_to_jobs(request_id: str | None, job_id: int | None) -> None:
    """A requestID names its job by the number before the step."""
    assert job_id_of(request_id) == job_id


def test_version_ordering() -> None:
    """Web Connector versions compare numerically, part by part."""
    assert version_key("2.10.0.1") > version_key("2.9.9.9") > version_key("2.1")


def test_tests_cannot_reach_the_network() -> None:
    """The suite's socket guard refuses any address that is not loopback."""
    import socket

    with socket.socket() as sock, pytest.raises(RuntimeError, match="must not reach the network"):
        sock.connect(("192.0.2.1", 80))
