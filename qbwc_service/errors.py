"""The one exception root of :mod:`qbwc_service` and its subclasses."""

from __future__ import annotations


class QbwcError(Exception):
    """Something in the QBWC service went wrong."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ConfigError(QbwcError):
    """The configuration is not valid."""


class NotFound(QbwcError):
    """The object asked for does not exist."""


class CompanyNotFound(NotFound):
    """No company connection has that name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no company connection is named {name!r}")


class JobNotFound(NotFound):
    """No job has that id."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(f"no job has id {job_id}")


class Conflict(QbwcError):
    """The object already exists or is not in a state that allows the change."""


class JobStateError(Conflict):
    """A job was not in the state a transition expects."""

    def __init__(self, job_id: int, expected: str, actual: str | None = None) -> None:
        self.job_id, self.expected, self.actual = job_id, expected, actual
        found = f", it is {actual}" if actual else ""
        super().__init__(f"job {job_id} is not {expected}{found}")


class PayloadError(QbwcError):
    """A job payload is not valid for its kind; ``errors`` lists each field's problem."""

    def __init__(self, kind: str, errors: list[str]) -> None:
        self.kind, self.errors = kind, errors
        super().__init__(f"invalid {kind} payload: " + "; ".join(errors))


class UnknownKind(PayloadError):
    """No job kind has that name."""

    def __init__(self, kind: str, known: list[str]) -> None:
        super().__init__(kind, [f"unknown job kind {kind!r}; known kinds: {', '.join(known)}"])


class Unverifiable(QbwcError):
    """An Add whose reply was lost cannot be looked up in QuickBooks (no name, no RefNumber)."""

    def __init__(self) -> None:
        super().__init__(
            "The reply to this request was lost and QuickBooks may already have it; "
            "check QuickBooks, then retry or cancel this job"
        )


class DeliveryError(QbwcError):
    """An alert message could not be delivered; ``permanent`` when trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        self.permanent = permanent
        super().__init__(message)
