"""gunicorn settings for ``qbwc-service serve`` (``-c python:qbwc_service.gunicorn_conf``)."""

from __future__ import annotations

import gc
from typing import Any

#: QBWC waits minutes for large responses; a worker must not be killed mid-answer.
timeout = 300
graceful_timeout = 30
keepalive = 75
#: Recycle workers now and then, jittered so they do not all restart together.
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
#: Each worker builds its own app (and engine) after the fork: nothing is shared.
preload_app = False


def post_worker_init(worker: Any) -> None:
    """Start the worker's alert sweeper, then move the objects built at start-up out of the collector's way."""
    from qbwc_service.alerts import worker as alerts_worker

    services = worker.wsgi.extensions["qbwc"]  # the Flask app create_app() built in this worker
    alerts_worker.start(services.engine, services.settings)
    gc.freeze()
