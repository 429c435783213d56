"""Local receivers of alert messages: a webhook HTTP server and an SMTP server (aiosmtpd), both on localhost."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Hook:
    """One POST the webhook server received."""

    headers: dict[str, str]
    body: bytes

    @property
    def document(self) -> Any:
        """The JSON body."""
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        """Whether the signature header is the HMAC-SHA256 of ``timestamp.body`` under ``secret``, as documented."""
        stamp = self.headers["X-QBWC-Timestamp"]
        expected = "sha256=" + hmac.new(secret.encode(), f"{stamp}.".encode() + self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers["X-QBWC-Signature"])


class WebhookReceiver:
    """An HTTP server on a free localhost port that records each POST and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.hooks: list[Hook] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.hooks.append(Hook(dict(self.headers.items()), self.rfile.read(length)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/qbwc?key=s3cr3t-path"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[str]:
        """The ``event`` of each document received, in order."""
        return [h.document["event"] for h in self.hooks]


class SmtpReceiver:
    """aiosmtpd on a free localhost port, keeping each message it is handed."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Message] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                message = message_from_bytes(envelope.original_content, policy=policy.default)
                message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
                receiver.messages.append(message)
                return "250 Message accepted for delivery"

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    """Poll ``predicate`` until it is true, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)
