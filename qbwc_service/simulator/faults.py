"""Seeded, reproducible faults: lost replies, hresults, slow answers, forced statuses."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from qbwc_service.simulator.errors import FaultSpecError

#: hresults QuickBooks gives when it cannot do a request at all.
HRESULTS: tuple[tuple[str, str], ...] = (
    ("0x80040408", "Could not start QuickBooks."),
    (
        "0x80040422",
        "This application requires Single User file access mode and there is already another "
        "application sharing data with this QuickBooks company data file.",
    ),
    (
        "0x8004041A",
        "This application does not have permission to access this QuickBooks company data file.",
    ),
)

_PROBABILITIES = {
    "drop": "drop",
    "lost-reply": "lost_reply",
    "hresult": "hresult",
    "slow": "slow",
    "close": "close",
    "warn": "warn",
}


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """How often each fault happens; parsed from ``lost-reply=0.05,hresult=0.01,slow=0.1``.

    Probabilities are per qbXML request document (transport faults) or per request
    (``warn``). ``status=3180@7`` makes the 7th request answer status 3180 instead.
    """

    #: QuickBooks does not answer: QBWC calls connectionError and the run ends.
    drop: float = 0.0
    #: QuickBooks applied the request but the reply never reached the service.
    lost_reply: float = 0.0
    #: QuickBooks refuses the document with an hresult, sent in receiveResponseXML.
    hresult: float = 0.0
    #: QuickBooks answers after ``slow_seconds``.
    slow: float = 0.0
    slow_seconds: float = 0.05
    #: The user closes QBWC after a round trip: no closeConnection.
    close: float = 0.0
    #: A successful request is reported with status 530, severity Warn.
    warn: float = 0.0
    #: ``(n, status)``: the n-th request (1-based) is answered with that error status.
    statuses: tuple[tuple[int, int], ...] = field(default=())

    @classmethod
    def parse(cls, spec: str | None) -> FaultPlan:
        """Read a comma-separated spec; empty means no faults."""
        values: dict[str, object] = {}
        statuses: list[tuple[int, int]] = []
        for part in (spec or "").split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, raw = part.partition("=")
            name, raw = name.strip(), raw.strip()
            if not sep:
                raise FaultSpecError(f"fault {part!r} needs a value, as in {part}=0.05")
            if name == "status":
                code, at, nth = raw.partition("@")
                if not at or not code.isdigit() or not nth.isdigit() or int(nth) < 1:
                    raise FaultSpecError(f"status fault {raw!r} must look like 3180@7")
                statuses.append((int(nth), int(code)))
                continue
            if name == "slow-seconds":
                values["slow_seconds"] = _number(name, raw, upper=None)
                continue
            attr = _PROBABILITIES.get(name)
            if attr is None:
                known = ", ".join([*_PROBABILITIES, "slow-seconds", "status"])
                raise FaultSpecError(f"unknown fault {name!r}; known faults: {known}")
            values[attr] = _number(name, raw, upper=1.0)
        return cls(statuses=tuple(statuses), **values)  # type: ignore[arg-type]

    def __str__(self) -> str:
        parts = []
        for spec_name, attr in _PROBABILITIES.items():
            value = getattr(self, attr)
            if value:
                parts.append(f"{spec_name}={value:g}")
        if self.slow:
            parts.append(f"slow-seconds={self.slow_seconds:g}")
        parts.extend(f"status={code}@{nth}" for nth, code in self.statuses)
        return ",".join(parts)

    @property
    def empty(self) -> bool:
        """Whether no fault can happen."""
        return not str(self)


def _number(name: str, raw: str, *, upper: float | None) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise FaultSpecError(f"fault {name} wants a number, not {raw!r}") from None
    if value < 0 or (upper is not None and value > upper):
        raise FaultSpecError(f"fault {name}={raw} must be between 0 and {upper or 'any'}")
    return value


@dataclass(frozen=True, slots=True)
class TransportFault:
    """What goes wrong with one qbXML request document on its way through QBWC."""

    drop: bool = False
    lost_reply: bool = False
    hresult: tuple[str, str] | None = None
    delay: float = 0.0
    close: bool = False


class FaultInjector:
    """Draws faults from a :class:`FaultPlan` with ``random.Random(seed)``: same seed, same faults.

    Transport faults and QuickBooks faults use separate streams, and every decision draws
    the same number of values whatever the plan says, so one seed gives the same sequence.
    """

    def __init__(self, plan: FaultPlan | str | None = None, seed: int = 0) -> None:
        self.plan = plan if isinstance(plan, FaultPlan) else FaultPlan.parse(plan)
        self.seed = seed
        # Reproducible simulation, not cryptography.
        self._transport = random.Random(f"{seed}:transport")  # noqa: S311
        self._quickbooks = random.Random(f"{seed}:quickbooks")  # noqa: S311
        self._statuses = dict(self.plan.statuses)
        #: Requests seen by :meth:`forced_status` so far.
        self.requests = 0
        #: How many of each fault were injected.
        self.counts: dict[str, int] = {}

    def _hit(self, name: str, draw: float, probability: float) -> bool:
        if draw < probability:
            self.counts[name] = self.counts.get(name, 0) + 1
            return True
        return False

    def transport(self) -> TransportFault:
        """Decide the fate of the next request document."""
        p = self.plan
        draws = [self._transport.random() for _ in range(5)]
        pick = self._transport.randrange(len(HRESULTS))
        if self._hit("drop", draws[0], p.drop):
            return TransportFault(drop=True)
        if self._hit("hresult", draws[1], p.hresult):
            return TransportFault(hresult=HRESULTS[pick])
        return TransportFault(
            lost_reply=self._hit("lost-reply", draws[2], p.lost_reply),
            delay=p.slow_seconds if self._hit("slow", draws[3], p.slow) else 0.0,
            close=self._hit("close", draws[4], p.close),
        )

    def forced_status(self) -> int | None:
        """Count one request; the status the plan forces on it, if any."""
        self.requests += 1
        code = self._statuses.get(self.requests)
        if code is not None:
            self.counts["status"] = self.counts.get("status", 0) + 1
        return code

    def warn(self) -> bool:
        """Whether this successful request comes back as a warning."""
        return self._hit("warn", self._quickbooks.random(), self.plan.warn)


__all__ = ["HRESULTS", "FaultInjector", "FaultPlan", "TransportFault"]
