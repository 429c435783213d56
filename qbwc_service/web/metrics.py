"""``/metrics`` for Prometheus, behind a bearer token (``QBWC_METRICS_TOKEN``); off without one."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response

from qbwc_service.metrics import exposition
from qbwc_service.web.context import bearer_token, services

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    """Every worker's counts and the database's gauges, to a scraper that sends the token."""
    expected = services().settings.metrics_token
    if not expected:
        return Response("metrics are off: set QBWC_METRICS_TOKEN to serve them\n", 404, mimetype="text/plain")
    presented = bearer_token() or ""
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        return Response(
            "send the metrics token as 'Authorization: Bearer <QBWC_METRICS_TOKEN>'\n",
            401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(exposition.render(services().engine), 200, content_type=exposition.CONTENT_TYPE_LATEST)
