"""The retry policy, table-tested: what each classification and attempt count leads to."""

from __future__ import annotations

from datetime import timedelta

import pytest

from qbwc_service.queue.retry import Action, RetryPolicy
from qbxml_builders import Classification, classify

POLICY = RetryPolicy(base_delay=timedelta(seconds=30), max_delay=timedelta(minutes=10))


@pytest.mark.parametrize(
    ("code", "severity", "attempts", "action"),
    [
        (0, "Info", 1, Action.DONE),
        (1, "Info", 1, Action.DONE),  # no match: an empty result
        (530, "Warn", 1, Action.DONE),  # a warning still did the work
        (3100, "Error", 1, Action.FAIL),  # name in use: a person decides
        (3140, "Error", 1, Action.FAIL),  # missing reference
        (3200, "Error", 1, Action.FAIL),  # stale EditSequence
        (3180, "Error", 1, Action.RETRY),  # error saving: try again
        (3231, "Error", 4, Action.RETRY),
        (3180, "Error", 5, Action.FAIL),  # out of attempts
        (9999, "Error", 1, Action.FAIL),  # unknown errors are permanent
        (9999, "Warn", 1, Action.DONE),  # unknown warnings are not failures
    ],
)
def test_decisions(code: int, severity: str, attempts: int, action: Action) -> None:
    """Each status code and attempt count maps to its action."""
    assert POLICY.decide(classify(code, severity).classification, attempts, 5).action is action


def test_backoff_doubles_and_is_capped() -> None:
    """The delay doubles with each attempt and never exceeds the maximum."""
    delays = [POLICY.backoff(n) for n in range(1, 8)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(delays) == timedelta(minutes=10)
    assert POLICY.decide(Classification.RETRYABLE, 2, 5).delay == timedelta(seconds=60)


def test_transport_failures_retry_until_the_limit() -> None:
    """A request that got no answer is retried until its attempts run out."""
    assert POLICY.decide_transport(1, 3).action is Action.RETRY
    assert POLICY.decide_transport(3, 3).action is Action.FAIL
