"""Test helpers: a zeep client on the official WSDL, qbXML responses, raw SOAP posts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import requests
from lxml import etree
from sqlalchemy import Engine
from zeep import Client, Settings
from zeep.transports import Transport

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import views
from qbwc_service.simulator.service import free_port
from tests.conftest import WSDL, WSDL_11OPS, need_spec

BINDING = "{http://developer.intuit.com/}QBWebConnectorSvcSoap"
HCP_RESPONSE = (
    '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>'
    '<HostQueryRs requestID="0" statusCode="0" statusSeverity="Info" statusMessage="Status OK"><HostRet>'
    "<ProductName>QuickBooks Enterprise Solutions 23.0</ProductName><MajorVersion>33</MajorVersion>"
    "<MinorVersion>0</MinorVersion><Country>US</Country><SupportedQBXMLVersion>13.0</SupportedQBXMLVersion>"
    "<SupportedQBXMLVersion>16.0</SupportedQBXMLVersion><IsAutomaticLogin>false</IsAutomaticLogin>"
    "<QBFileMode>SingleUser</QBFileMode></HostRet></HostQueryRs>"
    '<CompanyQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK"><CompanyRet>'
    "<IsSampleCompany>false</IsSampleCompany><CompanyName>Acme Auto Repair</CompanyName></CompanyRet></CompanyQueryRs>"
    '<PreferencesQueryRs requestID="2" statusCode="0" statusSeverity="Info" statusMessage="Status OK"><PreferencesRet>'
    "<SalesTaxPreferences><DefaultItemSalesTaxRef><FullName>Tax</FullName></DefaultItemSalesTaxRef>"
    "</SalesTaxPreferences></PreferencesRet></PreferencesQueryRs>"
    "</QBXMLMsgsRs></QBXML>"
)


def qbwc(url: str, *, interactive: bool = False) -> Any:
    """A zeep service proxy for the endpoint at ``url`` (``…/qbwc``), built from the official WSDL."""
    need_spec()
    session = requests.Session()
    client = Client(
        str(WSDL_11OPS if interactive else WSDL),
        transport=Transport(session=session, timeout=30),
        settings=Settings(strict=False),
    )
    return client.create_service(BINDING, url)


def customer_add(name: str) -> str:
    """A CustomerAddRq element as a ``qbxml`` job payload's request."""
    return f"<CustomerAddRq><CustomerAdd><Name>{escape(name)}</Name></CustomerAdd></CustomerAddRq>"


def rs(request_id: str, code: int = 0, *, name: str = "CustomerAddRs", severity: str | None = None,
       message: str = "Status OK", ret: str = "") -> str:  # fmt: skip
    """One …Rs element."""
    sev = severity or ("Info" if code in (0, 1) else "Error")
    return (
        f'<{name} requestID="{request_id}" statusCode="{code}" statusSeverity="{sev}" '
        f'statusMessage="{escape(message, {chr(34): "&quot;"})}">{ret}</{name}>'
    )


def customer_ret(list_id: str, name: str) -> str:
    """A CustomerRet with the identifiers a job records."""
    return (
        f"<CustomerRet><ListID>{list_id}</ListID><TimeCreated>2026-11-23T10:00:00-05:00</TimeCreated>"
        f"<EditSequence>1700000000</EditSequence><Name>{escape(name)}</Name>"
        f"<FullName>{escape(name)}</FullName></CustomerRet>"
    )


def response_doc(*parts: str) -> str:
    """A qbXML response document around ``parts``."""
    return '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>' + "".join(parts) + "</QBXMLMsgsRs></QBXML>"


SOAP_ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soap:Body>{body}</soap:Body></soap:Envelope>"
)


def soap_post(url: str, operation: str, body: str | bytes, **headers: str) -> requests.Response:
    """POST a raw SOAP body the way QBWC does (quoted SOAPAction, text/xml)."""
    data = body if isinstance(body, bytes) else SOAP_ENVELOPE.format(body=body).encode()
    return requests.post(
        url,
        data=data,
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"http://developer.intuit.com/{operation}"',
            **headers,
        },
        timeout=30,
    )


def last_xml(engine: Engine, job_id: int) -> tuple[str | None, str | None]:
    """The last request sent for a job and the last response to it, as support staff see them."""
    with engine.connect() as conn:
        detail = views.load_job_detail(conn, job_id)
    return detail["request_xml"], detail["response_xml"]


def start(protocol: Protocol, company: NewCompany) -> str:
    """authenticate as the company's Web Connector; the new session's ticket."""
    ticket = protocol.authenticate(company.username, company.token)[0]
    assert ticket
    return ticket


def send(protocol: Protocol, ticket: str) -> list[etree._Element]:
    """sendRequestXML: the requests of the message handed out (none when nothing is left)."""
    document = protocol.send_request_xml(ticket, "", "", "US", 13, 0)
    return list(etree.fromstring(document.encode()).find("QBXMLMsgsRq")) if document else []


def start_gunicorn(url: str, workers: int, log: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    """The service under gunicorn on ``url`` with ``workers`` workers, each request's worker pid in ``log``.

    ``env`` adds environment variables (``QBWC_…``; alert sweeps are off unless it turns them
    on); returns the process and its base URL once ``/healthz`` answers.
    """
    port = free_port()
    environ = {**os.environ, "QBWC_DATABASE_URL": url, "QBWC_BATCH_SIZE": "1", "QBWC_LOG_LEVEL": "WARNING",
               "QBWC_ALERT_SWEEP_SECONDS": "0", **env}  # fmt: skip
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen(
        [gunicorn, "-c", "python:qbwc_service.gunicorn_conf", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(log), "--access-logformat", "%(p)s %(r)s", "qbwc_service:create_app()"],
        env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=5).status_code == 200:
                return proc, base
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("gunicorn did not start")
