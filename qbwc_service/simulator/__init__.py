"""Test doubles good enough to prove the service: a QuickBooks emulator and a QBWC simulator.

:class:`QuickBooksEmulator` answers qbXML like a QuickBooks company file;
:class:`FaultInjector` makes it and the transport fail on purpose, reproducibly.
"""

from __future__ import annotations

from .company import CompanyFacts, Edition
from .emulator import Handled, QuickBooksEmulator
from .errors import FaultSpecError, HResultError, SimulatorError, SnapshotError
from .faults import FaultInjector, FaultPlan, TransportFault
from .store import Duplicate

__all__ = [
    "CompanyFacts",
    "Duplicate",
    "Edition",
    "FaultInjector",
    "FaultPlan",
    "FaultSpecError",
    "HResultError",
    "Handled",
    "QuickBooksEmulator",
    "SimulatorError",
    "SnapshotError",
    "TransportFault",
]
