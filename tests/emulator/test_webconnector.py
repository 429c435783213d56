"""The Web Connector simulator against a scripted endpoint: the exact QBWC call sequence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qbwc_service.simulator import FaultInjector, QuickBooksEmulator
from qbwc_service.simulator.webconnector import Outcome, WebConnector
from qbxml_builders import parse_response
from tests.emulator.conftest import FakeClock, add, document, el, needs_spec
from tests.emulator.endpoint import Script, ScriptedEndpoint, script_of

pytestmark = needs_spec

START = ["serverVersion", "clientVersion", "authenticate"]


def customer_request(name: str) -> str:
    """A CustomerAdd request document as text."""
    return document(add("Customer", el("Name", name))).decode()


@pytest.fixture
def quickbooks(clock: FakeClock) -> QuickBooksEmulator:
    """The emulated QuickBooks the simulator feeds."""
    return QuickBooksEmulator(clock=clock)


class Harness:
    """A scripted endpoint and a Web Connector pointed at it."""

    def __init__(self, quickbooks: QuickBooksEmulator) -> None:
        self.quickbooks = quickbooks
        self.endpoint: ScriptedEndpoint | None = None
        self.sleeps: list[float] = []

    def connect(self, script: Script, faults: FaultInjector | None = None) -> WebConnector:
        """Start an endpoint with ``script`` and return a Web Connector for it."""
        self.endpoint = ScriptedEndpoint(script).__enter__()
        return WebConnector(
            self.endpoint.url,
            "user",
            "secret",
            self.quickbooks,
            faults=faults,
            sleep=self.sleeps.append,
            noop_delay=0.0,
        )

    @property
    def ops(self) -> list[str]:
        """The operations the endpoint saw."""
        assert self.endpoint is not None
        return self.endpoint.operations()

    def params(self, operation: str) -> list[dict[str, str]]:
        """Parameters of every call of ``operation``."""
        assert self.endpoint is not None
        return [p for op, p in self.endpoint.calls if op == operation]


@pytest.fixture
def harness(quickbooks: QuickBooksEmulator) -> Iterator[Harness]:
    """A harness whose endpoint is shut down after the test."""
    h = Harness(quickbooks)
    yield h
    if h.endpoint is not None:
        h.endpoint.__exit__(None, None, None)


def test_full_run_call_sequence(harness: Harness) -> None:
    """Two requests: the calls are exactly those QBWC makes, HCP only on the first send."""
    wc = harness.connect(script_of(["T1", ""], [customer_request("A"), customer_request("B")], [50, 100]))
    report = wc.run_session()
    assert report.outcome == Outcome.DONE
    assert harness.ops == [
        *START,
        "sendRequestXML",
        "receiveResponseXML",
        "sendRequestXML",
        "receiveResponseXML",
        "closeConnection",
    ]
    sends = harness.params("sendRequestXML")
    assert "<HostQueryRs" in sends[0]["strHCPResponse"]
    assert sends[1]["strHCPResponse"] == ""
    assert sends[0]["qbXMLCountry"] == "US"
    assert (sends[0]["qbXMLMajorVers"], sends[0]["qbXMLMinorVers"]) == ("16", "0")
    assert sends[0]["strCompanyFileName"].endswith("simulated.qbw")
    assert harness.params("authenticate")[0] == {"strUserName": "user", "strPassword": "secret"}
    assert harness.params("clientVersion")[0]["strVersion"] == "2.3.0.215"
    answer = harness.params("receiveResponseXML")[1]
    assert parse_response(answer["response"])[0].status_code == 0
    assert harness.quickbooks.find("Customer", "B") is not None
    assert report.round_trips == 2
    assert report.close_message == "bye"


def test_each_call_is_timed_on_the_wire_within_its_whole_time(harness: Harness) -> None:
    """The wire time of a call (request sent to reply read) is its own, and inside the call's whole time."""
    wc = harness.connect(script_of(["T1", ""], [customer_request("A")], [100]))
    report = wc.run_session()
    assert [op for op, _ in report.wire_times] == [op for op, _ in report.call_times] == harness.ops
    for (_, wire), (_, whole) in zip(report.wire_times, report.call_times, strict=True):
        assert 0 < wire <= whole
    assert len({wire for _, wire in report.wire_times}) > 1  # each call's, not one kept from the first


def test_empty_request_means_get_last_error_then_close(harness: Harness) -> None:
    """When sendRequestXML returns nothing, QBWC asks getLastError and closes."""
    report = harness.connect(script_of(["T", ""], [])).run_session()
    assert harness.ops == [*START, "sendRequestXML", "getLastError", "closeConnection"]
    assert report.last_error == "scripted error"


def test_negative_percentage_calls_get_last_error(harness: Harness) -> None:
    """A negative receiveResponseXML answer makes QBWC call getLastError, then close."""
    report = harness.connect(script_of(["T", ""], [customer_request("A")], [-101])).run_session()
    assert report.outcome == Outcome.ERROR
    assert harness.ops[-3:] == ["receiveResponseXML", "getLastError", "closeConnection"]


@pytest.mark.parametrize("status", ["none", "nvu", "busy"])
def test_authenticate_refusals_end_the_run(harness: Harness, status: str) -> None:
    """none, nvu and busy end the run right after authenticate."""
    report = harness.connect(script_of(["", status, "30", "600"])).run_session()
    assert report.outcome == status
    assert harness.ops == START
    assert (report.postpone, report.min_run_every) == (30, 600)


def test_client_version_error_stops_before_authenticate(harness: Harness) -> None:
    """An E: answer to clientVersion stops QBWC before it authenticates."""
    report = harness.connect(script_of(["T", ""], clientVersion="E:too old")).run_session()
    assert report.outcome == Outcome.REFUSED
    assert harness.ops == ["serverVersion", "clientVersion"]


def test_client_version_warning_goes_on(harness: Harness) -> None:
    """A W: answer is shown to the user and the run continues."""
    report = harness.connect(script_of(["T", ""], clientVersion="W:upgrade soon")).run_session()
    assert report.outcome == Outcome.DONE
    assert "authenticate" in harness.ops


def test_other_company_file_is_a_connection_error(harness: Harness) -> None:
    """Asking for a company file QuickBooks does not have calls connectionError."""
    report = harness.connect(script_of(["T", "C:\\other.qbw"])).run_session()
    assert report.outcome == Outcome.CONNECTION_ERROR
    assert harness.ops == [*START, "connectionError"]
    assert harness.params("connectionError")[0]["hresult"] == "0x80040408"


def test_unparseable_request_goes_back_as_hresult(harness: Harness) -> None:
    """A request QuickBooks cannot parse comes back with an empty response and 0x80040400."""
    bad = '<?xml version="1.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"/></QBXML>'
    harness.connect(script_of(["T", ""], [bad])).run_session()
    received = harness.params("receiveResponseXML")[0]
    assert received["response"] == ""
    assert received["hresult"] == "0x80040400"
    assert "parsing" in received["message"]


def test_lost_reply_applies_but_never_reports(harness: Harness) -> None:
    """lost-reply=1: QuickBooks applies the request, the server never hears of it, no close."""
    wc = harness.connect(script_of(["T", ""], [customer_request("A")]), FaultInjector("lost-reply=1"))
    report = wc.run_session()
    assert report.outcome == Outcome.LOST_REPLY
    assert harness.quickbooks.find("Customer", "A") is not None
    assert harness.ops == [*START, "sendRequestXML"]


def test_drop_calls_connection_error_without_applying(harness: Harness) -> None:
    """drop=1: QuickBooks never answers, QBWC calls connectionError, nothing was applied."""
    wc = harness.connect(script_of(["T", ""], [customer_request("A")]), FaultInjector("drop=1"))
    report = wc.run_session()
    assert report.outcome == Outcome.CONNECTION_ERROR
    assert harness.ops[-1] == "connectionError"
    assert harness.quickbooks.find("Customer", "A") is None


def test_hresult_fault_is_sent_in_receive_response(harness: Harness) -> None:
    """hresult=1: receiveResponseXML carries an hresult and no response, nothing applied."""
    wc = harness.connect(script_of(["T", ""], [customer_request("A")]), FaultInjector("hresult=1", seed=2))
    wc.run_session()
    received = harness.params("receiveResponseXML")[0]
    assert received["response"] == ""
    assert received["hresult"].startswith("0x8004")
    assert harness.quickbooks.find("Customer", "A") is None


def test_close_fault_stops_without_close_connection(harness: Harness) -> None:
    """close=1: the user closes QBWC after the first round trip: no closeConnection."""
    wc = harness.connect(
        script_of(["T", ""], [customer_request("A"), customer_request("B")], [50]),
        FaultInjector("close=1"),
    )
    report = wc.run_session()
    assert report.outcome == Outcome.CLOSED
    assert harness.ops == [*START, "sendRequestXML", "receiveResponseXML"]


def test_slow_fault_waits_before_answering(harness: Harness) -> None:
    """slow=1 makes QuickBooks take slow-seconds before the response goes back."""
    wc = harness.connect(script_of(["T", ""], [customer_request("A")]), FaultInjector("slow=1,slow-seconds=0.25"))
    report = wc.run_session()
    assert harness.sleeps == [0.25]
    assert report.faults == ["slow"]


def test_noop_from_get_last_error_asks_again(harness: Harness) -> None:
    """getLastError answering NoOp makes QBWC call sendRequestXML again."""
    answers = iter(["NoOp", "done now"])
    base = script_of(["T", ""], [])

    def script(operation: str, params: dict[str, str]) -> object:
        if operation == "getLastError":
            return next(answers)
        return base(operation, params)

    report = harness.connect(script).run_session()
    assert harness.ops == [
        *START,
        "sendRequestXML",
        "getLastError",
        "sendRequestXML",
        "getLastError",
        "closeConnection",
    ]
    assert report.last_error == "done now"


def test_schedule_honours_postpone_and_min_run_interval(harness: Harness) -> None:
    """Runs repeat every N seconds; postpone replaces one wait, min-run-every raises the interval."""
    answers = iter([["", "none", "5"], ["", "busy", "", "120"], ["", "none"]])
    base = script_of([], [])

    def script(operation: str, params: dict[str, str]) -> object:
        return next(answers) if operation == "authenticate" else base(operation, params)

    reports = harness.connect(script).run(sessions=3, every=60)
    assert [r.outcome for r in reports] == ["none", "busy", "none"]
    assert harness.sleeps == [5.0, 120.0]


def test_iterators_do_not_survive_a_run(harness: Harness) -> None:
    """Each run is a new QuickBooks session, so an iterator from an earlier run is gone."""
    harness.quickbooks.process_request(document(add("Customer", el("Name", "A"))))
    harness.quickbooks.process_request(document(add("Customer", el("Name", "B"))))
    start = document(el("CustomerQueryRq", el("MaxReturned", "1"), iterator="Start")).decode()
    wc = harness.connect(script_of(["T", ""], [start], [100]))
    wc.run_session()
    first = parse_response(harness.params("receiveResponseXML")[0]["response"])[0]
    assert first.iterator_remaining == 1
    cont = document(
        el("CustomerQueryRq", el("MaxReturned", "1"), iterator="Continue", iteratorID=first.iterator_id or "")
    ).decode()
    harness.endpoint.script = script_of(["T2", ""], [cont], [100])  # type: ignore[union-attr]
    wc.run_session()
    second = parse_response(harness.params("receiveResponseXML")[1]["response"])[0]
    assert second.status_code == 3391
