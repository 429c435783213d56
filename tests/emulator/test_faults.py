"""Fault plans and the seeded injector."""

from __future__ import annotations

import pytest

from qbwc_service.simulator import FaultInjector, FaultPlan, FaultSpecError, QuickBooksEmulator
from tests.emulator.conftest import Company, FakeClock, add, el, needs_spec


def test_spec_is_parsed() -> None:
    """A spec string sets each probability, the slowness and forced statuses."""
    plan = FaultPlan.parse("lost-reply=0.05, hresult=0.01,slow=0.1,slow-seconds=0.2,status=3180@7")
    assert (plan.lost_reply, plan.hresult, plan.slow, plan.slow_seconds) == (0.05, 0.01, 0.1, 0.2)
    assert plan.statuses == ((7, 3180),)
    assert FaultPlan.parse(str(plan)) == plan
    assert FaultPlan.parse("").empty


@pytest.mark.parametrize("spec", ["lost=0.1", "drop=2", "drop=x", "drop", "status=3180", "status=x@1"])
def test_bad_specs_are_refused(spec: str) -> None:
    """Unknown faults, out-of-range numbers and malformed statuses raise FaultSpecError."""
    with pytest.raises(FaultSpecError):
        FaultPlan.parse(spec)


def test_same_seed_same_faults() -> None:
    """Two injectors with one seed make the same decisions; another seed differs."""
    plan = FaultPlan.parse("drop=0.2,lost-reply=0.2,hresult=0.2,slow=0.2,close=0.2,warn=0.3")

    def run(seed: int) -> list[object]:
        injector = FaultInjector(plan, seed=seed)
        return [(injector.transport(), injector.warn()) for _ in range(200)]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_zero_plan_never_fires() -> None:
    """An empty plan injects nothing however long it runs."""
    injector = FaultInjector("", seed=1)
    decisions = [injector.transport() for _ in range(500)]
    assert all(not d.drop and not d.lost_reply and d.hresult is None and not d.close for d in decisions)
    assert injector.counts == {}


def test_probabilities_are_roughly_honoured() -> None:
    """With lost-reply=0.25 about a quarter of 2,000 documents lose their reply."""
    injector = FaultInjector("lost-reply=0.25", seed=3)
    lost = sum(injector.transport().lost_reply for _ in range(2000))
    assert 400 < lost < 600
    assert injector.counts["lost-reply"] == lost


@needs_spec
def test_forced_status_on_the_nth_request(clock: FakeClock) -> None:
    """status=3180@2 answers the second request with 3180 and does not apply it."""
    qb = Company(QuickBooksEmulator(clock=clock, faults=FaultInjector("status=3180@2")))
    assert qb.one(add("Customer", el("Name", "A"))).status_code == 0
    assert qb.one(add("Customer", el("Name", "B"))).status_code == 3180
    assert qb.qb.find("Customer", "B") is None
    assert qb.one(add("Customer", el("Name", "C"))).status_code == 0


@needs_spec
def test_warn_fault_applies_and_warns(clock: FakeClock) -> None:
    """warn=1 reports status 530 severity Warn, and the request still took effect."""
    qb = Company(QuickBooksEmulator(clock=clock, faults=FaultInjector("warn=1")))
    rs = qb.one(add("Customer", el("Name", "A")))
    assert (rs.status_code, rs.severity) == (530, "Warn")
    assert rs.ok
    assert qb.qb.find("Customer", "A") is not None
