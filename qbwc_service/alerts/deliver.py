"""The two channels of incident messages: a signed JSON webhook and an e-mail over SMTP.

The webhook body is signed with HMAC-SHA256 over ``"<timestamp>.<body>"`` using
``QBWC_ALERT_WEBHOOK_SECRET``; README's "Alerts" says how a receiver verifies it. Errors are
:class:`~qbwc_service.errors.DeliveryError` sentences that name the receiver by scheme and
host only (webhook URLs often carry a secret in their path) and never the secret or password.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import smtplib
import ssl
import time
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from qbwc_service.alerts.incidents import IncidentRow
from qbwc_service.config import Settings
from qbwc_service.db.models import Notice
from qbwc_service.errors import DeliveryError

#: Seconds a webhook or SMTP server may take to answer.
TIMEOUT = 10
SIGNATURE_HEADER = "X-QBWC-Signature"
TIMESTAMP_HEADER = "X-QBWC-Timestamp"
EVENT_HEADER = "X-QBWC-Event"
DELIVERY_HEADER = "X-QBWC-Delivery"


def incident_url(settings: Settings, incident_id: int) -> str:
    """The incident's admin page."""
    return f"{settings.public_url.rstrip('/')}/incidents/{incident_id}"


def body(incident: IncidentRow, notice: Notice, settings: Settings) -> dict[str, Any]:
    """The webhook's JSON document (and what the e-mail says)."""
    return {
        "event": f"incident.{notice.value}",
        "service": settings.app_name,
        "incident": {
            "id": incident.id,
            "company": incident.company,
            "company_id": incident.company_id,
            "rule": incident.rule.value,
            "title": incident.title,
            "summary": incident.summary,
            "opened_at": incident.opened_at.isoformat(),
            "closed_at": incident.closed_at.isoformat() if incident.closed_at else None,
            "recovery": incident.recovery,
            "url": incident_url(settings, incident.id),
        },
    }


def sign(secret: str, timestamp: str, payload: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of ``timestamp.payload``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def shown_url(url: str) -> str:
    """A webhook URL as errors name it: scheme, host and port, the path and query left out."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…"


def _reason(exc: Exception) -> str:
    """A connection error in a few words, without the URL requests puts in its message."""
    import requests

    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer within {TIMEOUT} seconds"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the TLS handshake failed (is the certificate valid?)"
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    return found.group(1).strip().lower() if found else type(exc).__name__


def post_webhook(settings: Settings, document: dict[str, Any], delivery_id: int) -> str:
    """POST ``document`` to ``QBWC_ALERT_WEBHOOK_URL``, signed; what the receiver answered, in words."""
    import requests

    url = settings.alert_webhook_url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(
            "QBWC_ALERT_WEBHOOK_URL is not an http:// or https:// URL with a host; fix it and the next "
            "incident is sent",
            permanent=True,
        )
    if not settings.alert_webhook_secret:
        raise DeliveryError("QBWC_ALERT_WEBHOOK_SECRET is not set: webhooks are only sent signed", permanent=True)
    payload = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"{settings.app_name} alerts",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: sign(settings.alert_webhook_secret, stamp, payload),
        EVENT_HEADER: document["event"],
        DELIVERY_HEADER: str(delivery_id),
    }
    try:
        answer = requests.post(url, data=payload, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryError(f"cannot reach the webhook at {shown_url(url)}: {_reason(exc)}") from None
    if not 200 <= answer.status_code < 300:
        raise DeliveryError(f"the webhook at {shown_url(url)} answered HTTP {answer.status_code}")
    return f"the webhook at {shown_url(url)} answered HTTP {answer.status_code}"


def email_message(settings: Settings, document: dict[str, Any]) -> EmailMessage:
    """The alert e-mail of ``document``: a subject naming company and rule, the facts in plain text."""
    incident = document["incident"]
    recovered = document["event"] == "incident.recovered"
    message = EmailMessage()
    prefix = "Recovered: " if recovered else ""
    message["Subject"] = f"[{settings.app_name}] {prefix}{incident['title']}: {incident['company']}"
    message["From"] = settings.alert_email_from
    message["To"] = ", ".join(settings.alert_email_to)
    lines = [
        incident["recovery"] if recovered else incident["summary"],
        "",
        f"Company: {incident['company']}",
        f"Opened: {incident['opened_at']}",
    ]
    if recovered:
        lines += [f"Closed: {incident['closed_at']}", f"What was wrong: {incident['summary']}"]
    lines += ["", f"Its history: {incident['url']}"]
    message.set_content("\n".join(lines) + "\n")
    return message


def send_email(settings: Settings, document: dict[str, Any]) -> str:
    """Send the alert e-mail of ``document`` to ``QBWC_ALERT_EMAIL_TO``; what the server did, in words."""
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    if not settings.alert_email_to:
        raise DeliveryError("QBWC_ALERT_EMAIL_TO is empty: no one to e-mail", permanent=True)
    try:
        smtp: smtplib.SMTP
        if settings.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT,
                                    context=ssl.create_default_context())  # fmt: skip
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT)
        with smtp:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(email_message(settings, document))
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError(f"the SMTP server {server} refused the login of {settings.smtp_user!r}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"the SMTP server {server} refused the recipients {sorted(exc.recipients)}") from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"the SMTP server {server} failed: {type(exc).__name__} {exc}") from None
    except OSError as exc:
        raise DeliveryError(f"cannot reach the SMTP server {server}: {exc.strerror or exc}") from None
    return f"e-mailed to {', '.join(settings.alert_email_to)} through {server}"
