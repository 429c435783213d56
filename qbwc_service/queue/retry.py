"""The retry policy: what becomes of a job after QuickBooks answered. Pure, table-tested."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from qbxml_builders import Classification


class Action(StrEnum):
    """What to do with the job."""

    #: Record the result; the job is done.
    DONE = "done"
    #: Put it back in the queue, to be sent after ``delay``.
    RETRY = "retry"
    #: Stop: a person has to look at it.
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer for one response."""

    action: Action
    delay: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off for retryable answers, failure for everything a person must fix."""

    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)

    def backoff(self, attempts: int) -> timedelta:
        """The wait before attempt ``attempts + 1``: base * 2^(attempts-1), capped."""
        factor: int = 2 ** max(attempts - 1, 0)
        return min(self.base_delay * factor, self.max_delay)

    def decide(self, classification: Classification, attempts: int, max_attempts: int) -> Decision:
        """Decide from a response's classification and the attempts made so far."""
        if classification is Classification.SUCCESS:
            return Decision(Action.DONE)
        if classification is Classification.RETRYABLE and attempts < max_attempts:
            return Decision(Action.RETRY, self.backoff(attempts))
        return Decision(Action.FAIL)

    def decide_transport(self, attempts: int, max_attempts: int) -> Decision:
        """Decide for a job whose request never got a usable answer (hresult, lost session)."""
        if attempts < max_attempts:
            return Decision(Action.RETRY, self.backoff(attempts))
        return Decision(Action.FAIL)
