"""The one exception root of :mod:`qbxml_builders` and its subclasses."""

from __future__ import annotations


class BuilderError(Exception):
    """A qbXML document could not be built or read."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ValidationError(BuilderError):
    """A payload field breaks a rule of QuickBooks or of the target qbXML version."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class VersionError(ValidationError):
    """An element is not available in the target qbXML version or country."""


class ResponseError(BuilderError):
    """A qbXML response is not well-formed, is hostile, or is not a QBXMLMsgsRs document."""


class PayloadValidationError(ValidationError):
    """A payload does not fit its request kind; ``errors`` names each faulty field."""

    def __init__(self, kind: str, errors: list[str]) -> None:
        self.kind = kind
        self.errors = errors
        super().__init__(kind, "; ".join(errors))
