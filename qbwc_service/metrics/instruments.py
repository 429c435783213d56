"""What a process counts as it serves QBWC: call latency per method, QuickBooks' status codes,
authenticate's answers.

Under gunicorn every worker counts on its own, and ``prometheus-client``'s multiprocess mode
adds them up at scrape time: ``gunicorn_conf`` sets ``PROMETHEUS_MULTIPROC_DIR`` before the
workers fork, so each worker writes its values to its own files there. Without that variable
(tests, one process) the values stay in this process. The instruments are made on first use,
never at import.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

#: The Web Connector's operations: the only values of the ``method`` label.
METHODS = frozenset(
    {
        "serverVersion", "clientVersion", "authenticate", "sendRequestXML", "receiveResponseXML",
        "connectionError", "getLastError", "closeConnection", "getInteractiveURL", "interactiveDone",
        "interactiveRejected",
    }
)  # fmt: skip
#: Seconds: QBWC calls take milliseconds, a large answer may take a minute.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
#: authenticate's answers (the second string of its array), a session started counted as ``session``.
AUTH_ANSWERS = frozenset({"session", "none", "busy", "nvu"})
_SEVERITIES = {"info": "Info", "warn": "Warn", "warning": "Warn", "error": "Error"}
_HRESULT = re.compile(r"0x[0-9A-Fa-f]{1,8}")


@dataclass(frozen=True, slots=True)
class Instruments:
    """The process's counters and histograms, and the registry they are kept in."""

    registry: CollectorRegistry
    call_seconds: Histogram
    statuses: Counter
    hresults: Counter
    authenticate: Counter


@functools.cache
def instruments() -> Instruments:
    """This process's instruments, made on first use."""
    registry = CollectorRegistry(auto_describe=True)
    return Instruments(
        registry=registry,
        call_seconds=Histogram(
            "qbwc_call_seconds",
            "Time to answer one QBWC SOAP call, from its body read to its answer serialized, per method",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        statuses=Counter(
            "qbwc_quickbooks_status",
            "QuickBooks answers (…Rs) received, by statusCode and statusSeverity",
            ["code", "severity"],
            registry=registry,
        ),
        hresults=Counter(
            "qbwc_hresult",
            "receiveResponseXML calls carrying an hresult (QuickBooks could not run the message), by hresult",
            ["hresult"],
            registry=registry,
        ),
        authenticate=Counter(
            "qbwc_authenticate",
            "authenticate calls by answer: session (one started), none (no work), busy, nvu (refused)",
            ["answer"],
            registry=registry,
        ),
    )


def observe_call(method: str, seconds: float) -> None:
    """Record one SOAP call of ``method`` (an operation name; any other is ignored)."""
    if method in METHODS:
        instruments().call_seconds.labels(method).observe(seconds)


def count_statuses(answers: Iterable[tuple[int, str]]) -> None:
    """Count QuickBooks' ``(statusCode, statusSeverity)`` of each answer of a message."""
    statuses = instruments().statuses
    for code, severity in answers:
        statuses.labels(str(code), _SEVERITIES.get(severity.lower(), "other")).inc()


def count_hresult(hresult: str) -> None:
    """Count an hresult QBWC sent instead of an answer (anything not shaped like one is ``other``)."""
    value = hresult.strip()
    instruments().hresults.labels(value.lower() if _HRESULT.fullmatch(value) else "other").inc()


def count_authenticate(answer: list[str]) -> None:
    """Count authenticate's answer: ``[ticket, file]`` is a session, else its status word."""
    word = "session" if answer and answer[0] else (answer[1] if len(answer) > 1 else "")
    instruments().authenticate.labels(word if word in AUTH_ANSWERS else "other").inc()
