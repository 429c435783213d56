"""A stateful model of a producer and a faulty Web Connector: every job ends done or failed, nothing twice.

Hypothesis interleaves what a producer queues (ensure jobs, invoices naming their customer job,
payments paying the invoice job they name with several dependencies, Mods without an
EditSequence, iterated queries) with Web Connector runs whose round trips suffer random
faults (a lost reply, a request dropped, a worker killed between steps, an edit made in
QuickBooks meanwhile). At the end the queue is drained without faults.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from qbwc_service.accounts import companies
from qbwc_service.config import load_settings
from qbwc_service.db import migrate
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Job, JobState
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from qbwc_service.queue.retry import RetryPolicy
from qbwc_service.simulator import QuickBooksEmulator
from tests.emulator.conftest import needs_spec
from tests.emulator.driver import seed

pytestmark = [needs_spec, pytest.mark.slow]

FAULTS = ("none", "none", "none", "lost_reply", "dropped", "killed_worker", "edited_in_quickbooks")
NAMES = ("Ann", "Bob", "Zoë", "Yann")
SEEDED = ("Ann", "Bob")
_TEMPLATE: list[Path] = []


def _template() -> Path:
    """A migrated SQLite file, made once per test process."""
    if not _TEMPLATE:
        path = Path(tempfile.mkdtemp()) / "template.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        engine.dispose()
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


class ProducerAndFaultyConnector(RuleBasedStateMachine):
    """Jobs queued between Web Connector runs that fail in random ways."""

    @initialize()
    def setup(self) -> None:
        """A company, a fresh database, and QuickBooks holding two customers already."""
        self.tmp = tempfile.mkdtemp()
        path = Path(self.tmp) / "qbwc.sqlite3"
        shutil.copy(_template(), path)
        self.engine = make_engine(f"sqlite:///{path}")
        self.config = load_settings({"log_level": "WARNING", "batch_size": 7}, environ={})
        self.protocol = self._protocol()
        self.qb = QuickBooksEmulator()
        self.seeded = {name: seed(self.qb, "customer_add", {"name": name})["ListID"] for name in SEEDED}
        with self.engine.begin() as conn:
            self.company = companies.create_company(conn, "acme", "acme-qbwc")
        self.queued: dict[int, str] = {}
        self.customers: list[int] = []
        self.invoices: list[tuple[int, int]] = []
        self.payments: list[tuple[int, int]] = []
        self.item = self._enqueue("item_service_ensure", {"name": "Labour", "sales_or_purchase": {"price": "40.00"}})

    def _protocol(self) -> Protocol:
        return Protocol(self.engine, self.config, retry_policy=RetryPolicy(base_delay=timedelta(0)))

    def _enqueue(self, kind: str, payload: dict[str, Any], **kwargs: Any) -> int:
        with self.engine.begin() as conn:
            job_id = jobs.enqueue(conn, "acme", kind, payload, max_attempts=10, **kwargs).job_id
        self.queued[job_id] = kind
        return job_id

    # -- what a producer does ----------------------------------------------------------

    @rule(name=st.sampled_from(NAMES))
    def ensure_customer(self, name: str) -> None:
        """Queue a customer ensure (some names exist in QuickBooks already)."""
        self.customers.append(self._enqueue("customer_ensure", {"name": name}))

    @precondition(lambda self: bool(self.customers))
    @rule(data=st.data(), hours=st.integers(1, 5))
    def add_invoice(self, data: st.DataObject, hours: int) -> None:
        """Queue an invoice naming its customer by job."""
        customer = data.draw(st.sampled_from(self.customers))
        number = f"I-{len(self.invoices) + 1}"
        payload = {
            "customer_ref": {"job": customer},
            "ref_number": number,
            "lines": [{"item_ref": {"full_name": "Labour"}, "quantity": str(hours)}],
        }
        self.invoices.append((self._enqueue("invoice_add", payload), customer))

    @precondition(lambda self: bool(self.invoices))
    @rule(data=st.data())
    def pay_invoice(self, data: st.DataObject) -> None:
        """Queue a payment of 40.00 applied to the invoice job it names, depending on it and its customer."""
        invoice, customer = data.draw(st.sampled_from(self.invoices))
        payload = {
            "customer_ref": {"job": customer},
            "ref_number": f"P-{len(self.payments) + 1}",
            "total_amount": "40.00",
            "applied_to": [{"txn_id": {"job": invoice}, "payment_amount": "40.00"}],
        }
        self.payments.append((self._enqueue("payment_add", payload, depends_on=[invoice, customer]), invoice))

    @rule()
    def mod_without_edit_sequence(self) -> None:
        """Queue a Mod of a customer QuickBooks has, without its EditSequence."""
        self._enqueue("customer_mod", {"list_id": self.seeded["Bob"], "company_name": "Bob Ltd"})

    @rule()
    def iterated_query(self) -> None:
        """Queue an iterated customer query, three per page."""
        self._enqueue("customer_query", {"iterate": True, "max_returned": 3})

    # -- what the Web Connector does ---------------------------------------------------

    @rule(faults=st.lists(st.sampled_from(FAULTS), min_size=1, max_size=6))
    def web_connector_run(self, faults: list[str]) -> None:
        """One scheduled run whose round trips meet ``faults`` in turn."""
        self._run(iter(faults))

    def _run(self, faults: Any) -> bool:
        """A run; True when it ended normally (closeConnection)."""
        self.qb.open_session()
        try:
            ticket = self.protocol.authenticate(self.company.username, self.company.token)[0]
            if not ticket:
                return True
            for _ in range(60):
                fault = next(faults, "none")
                if fault == "killed_worker":
                    self.protocol = self._protocol()
                if fault == "edited_in_quickbooks":
                    bob = next(c for c in self.qb.records("Customer") if c["ListID"] == self.seeded["Bob"])
                    seed(self.qb, "customer_mod", {"list_id": bob["ListID"], "edit_sequence": bob["EditSequence"],
                                                   "notes": "edited by a person"})  # fmt: skip
                document = self.protocol.send_request_xml(ticket, "", "", "US", 13, 0)
                if not document:
                    break
                if fault == "dropped":
                    return False  # the request never reached QuickBooks; the run ends in an error
                response = self.qb.process_request(document)
                if fault == "lost_reply":
                    return False  # QuickBooks applied it; the reply never came back
                if self.protocol.receive_response_xml(ticket, response, "", "") >= 100:
                    break
            self.protocol.close_connection(ticket)
            return True
        finally:
            self.qb.close_session()

    # -- what must always hold -----------------------------------------------------------

    @invariant()
    def nothing_in_quickbooks_twice(self) -> None:
        """No customer, invoice or payment exists twice in QuickBooks."""
        if not hasattr(self, "qb"):
            return
        for record_type, key in (("Customer", "Name"), ("Invoice", "RefNumber"), ("ReceivePayment", "RefNumber")):
            keys = [r.get(key) for r in self.qb.records(record_type)]
            assert len(keys) == len(set(keys)), f"a {record_type} was entered twice: {sorted(keys)}"

    def teardown(self) -> None:
        """Drain the queue without faults: every job is done or failed with a reason, each payment on its invoice."""
        try:
            if hasattr(self, "engine"):
                for _ in range(40):
                    with self.engine.connect() as conn:
                        waiting = conn.execute(
                            select(Job.id).where(Job.state.in_([JobState.QUEUED, JobState.IN_FLIGHT]))
                        ).first()
                    if waiting is None:
                        break
                    self._run(iter(()))
                self._check_final()
        finally:
            if hasattr(self, "engine"):
                self.engine.dispose()
                shutil.rmtree(self.tmp, ignore_errors=True)

    def _check_final(self) -> None:
        with self.engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(Job.id, Job.state, Job.error, Job.result))}
        for job_id in self.queued:
            row = rows[job_id]
            assert row.state in (JobState.DONE, JobState.FAILED), f"job {job_id} ({self.queued[job_id]}) is {row.state}"
            assert row.state is JobState.DONE or row.error, f"job {job_id} failed without a reason"
        self.nothing_in_quickbooks_twice()
        for payment_id, invoice_id in self.payments:
            if rows[payment_id].state is not JobState.DONE:
                continue
            invoice = rows[invoice_id]
            assert invoice.state is JobState.DONE, f"payment {payment_id} done before its invoice {invoice_id}"
            paid = next(p for p in self.qb.records("ReceivePayment") if p["TxnID"] == rows[payment_id].result["TxnID"])
            applied = paid.get("AppliedToTxnRet")
            applied = applied if isinstance(applied, list) else [applied]
            assert invoice.result["TxnID"] in {a["TxnID"] for a in applied if a}, f"payment {payment_id} misapplied"
            assert Decimal(paid["TotalAmount"]) == Decimal("40.00")


ProducerAndFaultyConnector.TestCase.settings = settings(
    max_examples=30, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestProducerAndFaultyConnector = ProducerAndFaultyConnector.TestCase
