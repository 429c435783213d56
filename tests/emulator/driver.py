"""Drive the Protocol against the QuickBooks emulator call by call, as the Web Connector would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.simulator import QuickBooksEmulator
from qbxml_builders import parse_response
from qbxml_builders.kinds import preview


def seed(qb: QuickBooksEmulator, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Create a record in the emulator directly (as a QuickBooks user would); its Ret as a mapping."""
    (answer,) = parse_response(qb.process_request(preview(kind, payload)))
    assert answer.status_code == 0, answer.message
    return dict(answer.objects[0])


class Session:
    """One Web Connector run between the Protocol and the emulator, call by call."""

    def __init__(self, protocol: Protocol | Callable[[], Protocol], company: NewCompany, qb: QuickBooksEmulator,
                 *, major: int = 13, minor: int = 0, hcp: bool = False) -> None:  # fmt: skip
        self._protocol = protocol
        self.qb = qb
        #: The first sendRequestXML carries the emulator's HCP response (product, edition) when set.
        self._hcp = qb.hcp_response() if hcp else ""
        self.version = (major, minor)
        qb.open_session()
        self.ticket = self.protocol.authenticate(company.username, company.token)[0]
        assert self.ticket
        self.percentages: list[int] = []
        self.sent: list[etree._Element] = []
        #: What closeConnection answered.
        self.summary = ""

    @property
    def protocol(self) -> Protocol:
        """The Protocol answering the next call (a fresh one each call when given a factory)."""
        return self._protocol if isinstance(self._protocol, Protocol) else self._protocol()

    def send(self) -> str:
        """sendRequestXML: the document handed out ('' when nothing is left)."""
        document = self.protocol.send_request_xml(self.ticket, self._hcp, "", "US", *self.version)
        self._hcp = ""
        if document:
            self.sent.extend(etree.fromstring(document.encode()).find("QBXMLMsgsRq"))
        return document

    def receive(self, response: str) -> int:
        """receiveResponseXML with QuickBooks' answer."""
        percent = self.protocol.receive_response_xml(self.ticket, response, "", "")
        self.percentages.append(percent)
        return percent

    def round_trip(self) -> int | None:
        """One request and its answer by the emulator; None when nothing was sent."""
        document = self.send()
        if not document:
            return None
        return self.receive(self.qb.process_request(document))

    def run(self, limit: int = 50) -> None:
        """Round trips until the session is done, then close it."""
        for _ in range(limit):
            percent = self.round_trip()
            if percent is None or percent >= 100 or percent < 0:
                break
        self.close()

    def close(self) -> None:
        """closeConnection; QuickBooks' session (and its iterators) ends too."""
        self.summary = self.protocol.close_connection(self.ticket)
        self.qb.close_session()
