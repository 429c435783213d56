"""A tiny scripted QBWC endpoint over HTTP, to watch what the simulator sends."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree
from werkzeug.serving import BaseWSGIServer, make_server

from qbxml_builders import hardened_parser

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "http://developer.intuit.com/"

#: Answers a call: (operation, parameters) -> result (str, int or list of str).
Script = Callable[[str, dict[str, str]], Any]


class ScriptedEndpoint:
    """Records every SOAP call and answers it with the script's value."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}/qbwc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(5)

    def operations(self) -> list[str]:
        """The operations called, in order."""
        return [op for op, _ in self.calls]

    def wsgi(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size)
        envelope = etree.fromstring(body, parser=hardened_parser())
        call = envelope.find(f"{{{SOAP}}}Body")[0]  # type: ignore[index]
        operation = etree.QName(call).localname
        params = {etree.QName(c).localname: c.text or "" for c in call}
        self.calls.append((operation, params))
        result = self.script(operation, params)
        out_env = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP})
        out_body = etree.SubElement(out_env, f"{{{SOAP}}}Body")
        wrapper = etree.SubElement(out_body, f"{{{TNS}}}{operation}Response", nsmap={None: TNS})
        res = etree.SubElement(wrapper, f"{{{TNS}}}{operation}Result")
        if isinstance(result, list):
            for item in result:
                etree.SubElement(res, f"{{{TNS}}}string").text = item
        else:
            res.text = str(result)
        payload = etree.tostring(out_env, xml_declaration=True, encoding="utf-8")
        start("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [payload]


def script_of(
    auth: list[str],
    requests: list[str] | None = None,
    percents: list[int] | None = None,
    **answers: Any,
) -> Script:
    """A script: authenticate answers ``auth``; sendRequestXML hands out ``requests`` in turn."""
    queue = list(requests or [])
    pcts = list(percents or [])
    defaults: dict[str, Any] = {
        "serverVersion": "scripted 1.0",
        "clientVersion": "",
        "getLastError": "scripted error",
        "connectionError": "done",
        "closeConnection": "bye",
    }
    defaults.update(answers)

    def answer(operation: str, params: dict[str, str]) -> Any:
        if operation == "authenticate":
            return auth
        if operation == "sendRequestXML":
            return queue.pop(0) if queue else ""
        if operation == "receiveResponseXML":
            return pcts.pop(0) if pcts else 100
        return defaults[operation]

    return answer
