"""A QuickBooks Web Connector 2.3 over real SOAP/HTTP, feeding an emulated QuickBooks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from zeep import Client, Settings
from zeep.exceptions import Error as ZeepError
from zeep.transports import Transport

from qbwc_service.simulator.emulator import QuickBooksEmulator
from qbwc_service.simulator.errors import HResultError
from qbwc_service.simulator.faults import FaultInjector, TransportFault
from qbwc_service.simulator.schema import spec_dir

BINDING = "{http://developer.intuit.com/}QBWebConnectorSvcSoap"


def _binding_name(client: Any) -> str:
    """Intuit's SOAP 1.1 binding name, or the one binding an endpoint's own WSDL declares."""
    names = [str(name) for name in client.wsdl.bindings]
    return BINDING if BINDING in names or not names else names[0]


class _TimedTransport(Transport):
    """zeep's transport, keeping how long the last HTTP exchange took: request sent, reply read."""

    last_seconds = 0.0

    def post(self, address: str, message: Any, headers: Any) -> Any:
        started = time.perf_counter()
        try:
            return super().post(address, message, headers)  # type: ignore[no-untyped-call]  # zeep: untyped
        finally:
            self.last_seconds = time.perf_counter() - started


QBWC_VERSION = "2.3.0.215"
#: What QBWC reports when it cannot reach QuickBooks or the company file.
NO_QUICKBOOKS = ("0x80040408", "Could not start QuickBooks.")


class Outcome:
    """How a Web Connector run ended (plain strings, for reports and JSON)."""

    #: The server said 100 % or had no more work; closeConnection was called.
    DONE = "done"
    #: A negative percentage: getLastError, then closeConnection.
    ERROR = "error"
    #: authenticate said ``none``, ``nvu`` or ``busy``.
    NONE, NVU, BUSY = "none", "nvu", "busy"
    #: clientVersion answered ``E:`` or asked for a newer QBWC.
    REFUSED = "client-refused"
    #: QuickBooks did not answer or the file could not be opened: connectionError was called.
    CONNECTION_ERROR = "connection-error"
    #: QuickBooks applied a request but its reply never reached the server.
    LOST_REPLY = "lost-reply"
    #: The user closed QBWC mid-run: no closeConnection.
    CLOSED = "closed"
    #: The HTTP call itself failed (timeout, refused, SOAP fault).
    TRANSPORT = "transport-error"


@dataclass(slots=True)
class SessionReport:
    """What happened in one Web Connector run."""

    outcome: str = ""
    ticket: str = ""
    #: Every SOAP operation called, in order.
    calls: list[str] = field(default_factory=list)
    server_version: str = ""
    client_version_answer: str = ""
    auth_status: str = ""
    #: The 3rd and 4th elements of authenticate's answer, in seconds.
    postpone: int | None = None
    min_run_every: int | None = None
    #: Seconds spent in each sendRequestXML + receiveResponseXML pair (HTTP only).
    latencies: list[float] = field(default_factory=list)
    #: ``(operation, seconds)`` of every call that answered, zeep's envelope and parse included.
    call_times: list[tuple[str, float]] = field(default_factory=list)
    #: ``(operation, seconds)`` of the same calls on the wire: from the request sent to the reply read.
    wire_times: list[tuple[str, float]] = field(default_factory=list)
    percentages: list[int] = field(default_factory=list)
    last_error: str | None = None
    close_message: str | None = None
    #: Faults injected in this run, by name.
    faults: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def round_trips(self) -> int:
        """Request documents QuickBooks was handed."""
        return len(self.latencies)


def _strings(value: Any) -> list[str]:
    """zeep's ArrayOfString as a plain list."""
    if value is None:
        return []
    inner = getattr(value, "string", value)
    if isinstance(inner, str):
        return [inner]
    return ["" if v is None else str(v) for v in (inner or [])]


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


class WebConnector:
    """One QBWC application entry: a server URL, a user and password, a QuickBooks to feed.

    Each :meth:`run_session` makes exactly the calls QBWC makes; :meth:`run` repeats them
    on a schedule, honouring the postpone and minimum-interval answers of authenticate.
    """

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        quickbooks: QuickBooksEmulator,
        *,
        faults: FaultInjector | None = None,
        wsdl: str | Path | None = None,
        qbwc_version: str = QBWC_VERSION,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        noop_delay: float = 5.0,
        max_round_trips: int = 100_000,
    ) -> None:
        self.url, self.username, self.password = url, username, password
        self.quickbooks = quickbooks
        self.faults = faults
        self.qbwc_version = qbwc_version
        self.sleep = sleep
        self.noop_delay = noop_delay
        self.max_round_trips = max_round_trips
        self.session = requests.Session()
        if wsdl is None:
            base = spec_dir()
            official = base / "qbwc" / "QBWebConnectorSvc.wsdl" if base else None
            wsdl = official if official and official.is_file() else url + "?wsdl"
        # zeep ships no type information for these: go through Any.
        client_class: Any = Client
        transport_class: Any = _TimedTransport  # zeep ships no type information
        self._transport = transport_class(session=self.session, timeout=timeout, operation_timeout=timeout)
        client = client_class(
            str(wsdl),
            transport=self._transport,
            settings=Settings(strict=False, xml_huge_tree=False),
        )
        self.service: Any = client.create_service(_binding_name(client), url)

    def close(self) -> None:
        """Release the HTTP connections."""
        self.session.close()

    # -- one run ---------------------------------------------------------------------------

    def run_session(self) -> SessionReport:
        """One scheduled run, from serverVersion to closeConnection (or wherever it stops)."""
        report = SessionReport()
        try:
            self._run(report)
        except (requests.RequestException, ZeepError) as exc:
            report.outcome = Outcome.TRANSPORT
            report.detail = f"{type(exc).__name__}: {exc}"
        finally:
            self.quickbooks.close_session()
        return report

    def _call(self, report: SessionReport, operation: str, **params: Any) -> Any:
        report.calls.append(operation)
        started = time.perf_counter()
        answer = getattr(self.service, operation)(**params)
        report.call_times.append((operation, time.perf_counter() - started))
        report.wire_times.append((operation, self._transport.last_seconds))
        return answer

    def _run(self, report: SessionReport) -> None:
        report.server_version = self._call(report, "serverVersion") or ""
        answer = self._call(report, "clientVersion", strVersion=self.qbwc_version) or ""
        report.client_version_answer = answer
        if answer.startswith("E:") or (
            answer.startswith("O:") and _version_tuple(answer[2:]) > _version_tuple(self.qbwc_version)
        ):
            report.outcome, report.detail = Outcome.REFUSED, answer[2:]
            return
        auth = _strings(self._call(report, "authenticate", strUserName=self.username, strPassword=self.password))
        auth += [""] * (2 - len(auth))
        ticket, status = auth[0], auth[1]
        report.ticket, report.auth_status = ticket, status
        report.postpone = int(auth[2]) if len(auth) > 2 and auth[2].isdigit() else None
        report.min_run_every = int(auth[3]) if len(auth) > 3 and auth[3].isdigit() else None
        if status in (Outcome.NONE, Outcome.NVU, Outcome.BUSY):
            report.outcome = status
            return
        facts = self.quickbooks.facts
        if status and status.lower() != facts.company_file.lower():
            report.outcome, report.detail = Outcome.CONNECTION_ERROR, f"no company file {status}"
            self._connection_error(report, ticket, NO_QUICKBOOKS)
            return
        self.quickbooks.open_session()
        self._exchange(report, ticket)

    def _exchange(self, report: SessionReport, ticket: str) -> None:
        facts = self.quickbooks.facts
        major, minor = facts.max_version
        hcp = self.quickbooks.hcp_response()
        noops = 0
        while report.round_trips < self.max_round_trips:
            started = time.perf_counter()
            request = self._call(
                report,
                "sendRequestXML",
                ticket=ticket,
                strHCPResponse=hcp,
                strCompanyFileName=facts.company_file,
                qbXMLCountry=facts.country,
                qbXMLMajorVers=major,
                qbXMLMinorVers=minor,
            )
            spent = time.perf_counter() - started
            hcp = ""
            if not request:
                report.last_error = self._call(report, "getLastError", ticket=ticket) or ""
                if report.last_error == "NoOp" and noops < 3:
                    noops += 1
                    self.sleep(self.noop_delay)
                    continue
                report.outcome = Outcome.DONE
                break
            fault = self.faults.transport() if self.faults else TransportFault()
            if fault.drop:
                report.faults.append("drop")
                report.outcome = Outcome.CONNECTION_ERROR
                self._connection_error(report, ticket, NO_QUICKBOOKS)
                return
            response, hresult, message = self._quickbooks(fault, report, request)
            if fault.delay:
                report.faults.append("slow")
                self.sleep(fault.delay)
            if fault.lost_reply and response:
                report.faults.append("lost-reply")
                report.latencies.append(spent)
                report.outcome = Outcome.LOST_REPLY
                return
            started = time.perf_counter()
            percent = int(
                self._call(
                    report,
                    "receiveResponseXML",
                    ticket=ticket,
                    response=response,
                    hresult=hresult,
                    message=message,
                )
            )
            report.latencies.append(spent + time.perf_counter() - started)
            report.percentages.append(percent)
            if fault.close:
                report.faults.append("close")
                report.outcome = Outcome.CLOSED
                return
            if percent < 0:
                report.last_error = self._call(report, "getLastError", ticket=ticket) or ""
                report.outcome = Outcome.ERROR
                break
            if percent >= 100:
                report.outcome = Outcome.DONE
                break
        report.close_message = self._call(report, "closeConnection", ticket=ticket) or ""

    def _quickbooks(self, fault: TransportFault, report: SessionReport, request: str) -> tuple[str, str, str]:
        """Hand the request to QuickBooks: a response, or an hresult and its message."""
        if fault.hresult is not None:
            report.faults.append("hresult")
            return "", *fault.hresult
        try:
            return self.quickbooks.process_request(request), "", ""
        except HResultError as exc:
            return "", exc.hresult, exc.message

    def _connection_error(self, report: SessionReport, ticket: str, error: tuple[str, str]) -> None:
        hresult, message = error
        report.last_error = self._call(report, "connectionError", ticket=ticket, hresult=hresult, message=message)

    # -- scheduled runs --------------------------------------------------------------------

    def run(self, sessions: int = 1, every: float | None = None) -> list[SessionReport]:
        """Run ``sessions`` times; with ``every`` seconds between runs as QBWC's scheduler does.

        A postpone value from authenticate replaces the wait once; a minimum run interval
        raises the schedule's interval from then on.
        """
        reports: list[SessionReport] = []
        interval = every
        for index in range(sessions):
            report = self.run_session()
            reports.append(report)
            if report.min_run_every is not None and interval is not None:
                interval = max(interval, float(report.min_run_every))
            if interval is not None and index < sessions - 1:
                wait = float(report.postpone) if report.postpone is not None else interval
                self.sleep(wait)
        return reports
