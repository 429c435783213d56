"""qbwc-service: keeps QuickBooks Desktop in sync through the QuickBooks Web Connector."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qbwc_service._version import __version__

__all__ = ["__version__", "create_app"]

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the WSGI application (see :func:`qbwc_service.app.create_app`)."""
    from qbwc_service.app import create_app as _create_app

    return _create_app(config)
