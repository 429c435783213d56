"""A bare Spyne QBWC endpoint that answers constants: the baseline of bench/roundtrip.py."""

from __future__ import annotations

from typing import Any

from spyne import Application, Integer, ServiceBase, Unicode, rpc
from spyne.model.primitive import Int
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

REQUEST = (
    '<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="continueOnError">'
    '<CustomerAddRq requestID="1"><CustomerAdd><Name>Customer</Name></CustomerAdd></CustomerAddRq>'
    "</QBXMLMsgsRq></QBXML>"
)


class Bare(ServiceBase):
    """sendRequestXML and receiveResponseXML with constant answers and no state."""

    @rpc(Unicode, Unicode, Unicode, Unicode, Integer, Integer, _returns=Unicode)
    def sendRequestXML(
        ctx: Any, ticket, strHCPResponse, strCompanyFileName, qbXMLCountry, qbXMLMajorVers, qbXMLMinorVers
    ):
        return REQUEST

    @rpc(Unicode, Unicode, Unicode, Unicode, _returns=Int)
    def receiveResponseXML(ctx: Any, ticket, response, hresult, message):
        return 50


def create_app() -> WsgiApplication:
    """The WSGI app, mounted at any path."""
    app = Application([Bare], tns="http://developer.intuit.com/", name="QBWebConnectorSvc",
                      in_protocol=Soap11(validator="soft"), out_protocol=Soap11())  # fmt: skip
    return WsgiApplication(app, max_content_length=32 * 1024 * 1024)
