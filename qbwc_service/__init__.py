"""qbwc-service: keeps QuickBooks Desktop in sync through the QuickBooks Web Connector."""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the WSGI application (see :func:`qbwc_service.app.create_app`)."""
    from qbwc_service.app import create_app as _create_app

    return _create_app(config)
