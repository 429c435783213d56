"""Exceptions of the simulator: all under :class:`qbwc_service.errors.QbwcError`."""

from __future__ import annotations

from qbwc_service.errors import QbwcError

#: The hresult QuickBooks gives for a request it cannot parse or validate.
HRESULT_PARSE = "0x80040400"
PARSE_MESSAGE = "QuickBooks found an error when parsing the provided XML text stream."


class SimulatorError(QbwcError):
    """The QuickBooks emulator or the Web Connector simulator failed."""


class HResultError(SimulatorError):
    """QuickBooks refused the whole request document with an hresult, not a response."""

    def __init__(self, hresult: str, message: str, detail: str = "") -> None:
        self.hresult, self.message, self.detail = hresult, message, detail
        super().__init__(f"{hresult}: {message}" + (f" ({detail})" if detail else ""))


class FaultSpecError(SimulatorError):
    """A fault specification such as ``lost-reply=0.05,hresult=0.01`` is not valid."""


class SnapshotError(SimulatorError):
    """A company snapshot could not be read."""
