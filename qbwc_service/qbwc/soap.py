"""The Spyne SOAP service: the QBWC contract of ``http://developer.intuit.com/``.

Thin glue: every operation hands its arguments to :class:`~qbwc_service.qbwc.protocol.Protocol`.
The Python argument names are the WSDL's element names and must not change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree
from spyne import Application, Array, Integer, ServiceBase, Unicode, rpc
from spyne import const as spyne_const
from spyne.model.fault import Fault
from spyne.model.primitive import Int
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from qbwc_service.logs import log
from qbwc_service.metrics.instruments import count_authenticate, observe_call
from qbwc_service.qbwc.protocol import Protocol

NAMESPACE = "http://developer.intuit.com/"
ArrayOfString = Array(Unicode, type_name="ArrayOfString")
#: The WSGI environ key where a call's operation name is left for :class:`GuardedSoap`'s timing.
METHOD_KEY = "qbwc.method"


def _protocol(ctx: Any) -> Protocol:
    protocol: Protocol = ctx.app.qbwc_protocol
    return protocol


class QBWebConnectorSvc(ServiceBase):
    """The Web Connector's eleven operations."""

    @rpc(Unicode, _returns=Unicode)
    def serverVersion(ctx, strVersion=None):
        return _protocol(ctx).server_version()

    @rpc(Unicode, _returns=Unicode)
    def clientVersion(ctx, strVersion):
        return _protocol(ctx).client_version(strVersion)

    @rpc(Unicode, Unicode, _returns=ArrayOfString)
    def authenticate(ctx, strUserName, strPassword):
        answer = _protocol(ctx).authenticate(strUserName, strPassword)
        count_authenticate(answer)
        return answer

    @rpc(Unicode, Unicode, Unicode, Unicode, Integer, Integer, _returns=Unicode)
    def sendRequestXML(
        ctx,
        ticket,
        strHCPResponse,
        strCompanyFileName,
        qbXMLCountry,
        qbXMLMajorVers,
        qbXMLMinorVers,
    ):
        return _protocol(ctx).send_request_xml(
            ticket, strHCPResponse, strCompanyFileName, qbXMLCountry, qbXMLMajorVers, qbXMLMinorVers
        )

    @rpc(Unicode, Unicode, Unicode, Unicode, _returns=Int)
    def receiveResponseXML(ctx, ticket, response, hresult, message):
        return _protocol(ctx).receive_response_xml(ticket, response, hresult, message)

    @rpc(Unicode, Unicode, Unicode, _returns=Unicode)
    def connectionError(ctx, ticket, hresult, message):
        return _protocol(ctx).connection_error(ticket, hresult, message)

    @rpc(Unicode, _returns=Unicode)
    def getLastError(ctx, ticket):
        return _protocol(ctx).get_last_error(ticket)

    @rpc(Unicode, _returns=Unicode)
    def closeConnection(ctx, ticket):
        return _protocol(ctx).close_connection(ticket)

    @rpc(Unicode, Unicode, _returns=Unicode)
    def getInteractiveURL(ctx, wcTicket, sessionID):
        return _protocol(ctx).get_interactive_url(wcTicket, sessionID)

    @rpc(Unicode, _returns=Unicode)
    def interactiveDone(ctx, wcTicket):
        return _protocol(ctx).interactive_done(wcTicket)

    @rpc(Unicode, Unicode, _returns=Unicode)
    def interactiveRejected(ctx, wcTicket, reason):
        return _protocol(ctx).interactive_rejected(wcTicket, reason)

    @classmethod
    def call_wrapper(cls, ctx: Any) -> Any:
        """Turn surprises into a one-line fault; the traceback stays in our log."""
        try:
            return super().call_wrapper(ctx)
        except Fault:
            raise
        except Exception as exc:
            log(
                logging.ERROR,
                "soap_call_failed",
                operation=ctx.method_request_string,
                error=repr(exc)[:300],
            )
            raise Fault(
                faultcode="Server",
                faultstring="The service could not process this call; it was logged.",
            ) from None


def soap_fault(message: str, code: str = "soap:Client") -> bytes:
    """A SOAP 1.1 fault envelope with a one-line ``faultstring``."""
    from xml.sax.saxutils import escape

    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


def with_intuit_soap_actions(wsdl: bytes) -> bytes:
    """Rewrite Spyne's ``soapAction="op"`` to the ``http://developer.intuit.com/op`` QBWC sends."""
    root = etree.fromstring(wsdl)
    for operation in root.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation"):
        action = operation.get("soapAction")
        if action and "/" not in action:
            operation.set("soapAction", NAMESPACE + action)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _name_the_method(ctx: Any) -> None:
    """Leave the operation's name in the environ (Spyne's ``method_call`` event) for the timing."""
    ctx.transport.req_env[METHOD_KEY] = ctx.descriptor.name


class GuardedSoap:
    """WSGI middleware that refuses what Spyne would answer badly (no body, too big, DTDs) and
    times each call Spyne answers, per operation (``qbwc_call_seconds``)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            if environ.get("QUERY_STRING", "").lower() == "wsdl":
                return self._wsdl(environ, start_response)
            return self.app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return self._refuse(start_response, "The request has no valid Content-Length.", 411)
        if length > self.max_body_bytes:
            return self._refuse(
                start_response,
                f"The request body is over the {self.max_body_bytes}-byte limit.",
                413,
            )
        stream = environ["wsgi.input"]
        body = stream.read(length) if length else b""
        if not body.strip():
            return self._refuse(start_response, "The request body is empty; a SOAP envelope was expected.")
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            return self._refuse(start_response, "Document type declarations and entities are not accepted.")
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        started = time.perf_counter()
        # Spyne has parsed, answered and serialized the call when it returns (no streaming).
        answer = self.app(environ, start_response)
        method = environ.get(METHOD_KEY)
        if method is not None:
            observe_call(method, time.perf_counter() - started)
        return answer

    def _wsdl(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Spyne's WSDL with Intuit's soapAction values (``http://developer.intuit.com/<op>``)."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured.update(status=status, headers=headers)
            return lambda _data: None

        body = b"".join(self.app(environ, capture))
        if captured.get("status", "").startswith("200"):
            body = with_intuit_soap_actions(body)
        headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() != "content-length"]
        start_response(
            captured.get("status", "500 Internal Server Error"), [*headers, ("Content-Length", str(len(body)))]
        )
        return [body]

    @staticmethod
    def _refuse(start_response: Callable[..., Any], message: str, status: int = 400) -> list[bytes]:
        log(logging.WARNING, "soap_request_refused", reason=message)
        body = soap_fault(message)
        reason = {400: "Bad Request", 411: "Length Required", 413: "Payload Too Large"}.get(status, "Error")
        start_response(
            f"{status} {reason}",
            [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]


def make_soap_app(protocol: Protocol) -> GuardedSoap:
    """The WSGI application serving the QBWC SOAP contract for ``protocol``."""
    # Spyne forces a full gc.collect() after a call at most once a second, to close files
    # its contexts hold. Ours hold none, and in a process carrying SQLAlchemy, lxml and
    # Flask a full collection costs tens of milliseconds: leave collection to Python.
    spyne_const.MIN_GC_INTERVAL = float("inf")
    application = Application(
        [QBWebConnectorSvc],
        tns=NAMESPACE,
        name="QBWebConnectorSvc",
        in_protocol=Soap11(validator="soft"),
        out_protocol=Soap11(),
    )
    application.qbwc_protocol = protocol
    application.event_manager.add_listener("method_call", _name_the_method)
    max_bytes = protocol.settings.max_body_bytes
    wsgi = WsgiApplication(application, max_content_length=max_bytes)
    return GuardedSoap(wsgi, max_bytes)
