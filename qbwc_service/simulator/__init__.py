"""Test doubles good enough to prove the service: a QuickBooks emulator and a QBWC simulator.

:class:`QuickBooksEmulator` answers qbXML like a QuickBooks company file;
:class:`FaultInjector` makes it and the transport fail on purpose, reproducibly.
"""

from __future__ import annotations

from qbwc_service.simulator.company import CompanyFacts, Edition
from qbwc_service.simulator.emulator import Handled, QuickBooksEmulator
from qbwc_service.simulator.errors import FaultSpecError, HResultError, SimulatorError, SnapshotError
from qbwc_service.simulator.faults import FaultInjector, FaultPlan, TransportFault
from qbwc_service.simulator.store import Duplicate

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
