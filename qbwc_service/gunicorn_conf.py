"""gunicorn settings for ``qbwc-service serve`` (``-c python:qbwc_service.gunicorn_conf``)."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

#: prometheus-client's variable (``qbwc_service.metrics.exposition.MULTIPROC_ENV``; not imported:
#: the master must not load the service before it forks).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

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


def on_starting(server: Any) -> None:
    """Give the workers one folder for their metrics before any forks (prometheus-client's multiprocess mode).

    ``PROMETHEUS_MULTIPROC_DIR`` names it when set (it is emptied: the values of an earlier
    run are not this one's); otherwise a private temporary folder is made and removed at exit.
    """
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.db"):
            old.unlink()
    else:
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="qbwc-metrics-")
        server.qbwc_metrics_dir = os.environ[MULTIPROC_ENV]


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended (recycled, killed): its counts stay, its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # prometheus-client leaves it untyped


def on_exit(server: Any) -> None:
    """Remove the metrics folder this master made."""
    made = getattr(server, "qbwc_metrics_dir", None)
    if made:
        shutil.rmtree(made, ignore_errors=True)
